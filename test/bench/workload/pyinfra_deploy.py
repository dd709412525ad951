"""The benchmark workload for pyinfra (npm run bench): the same work as rigger.ts, under /srv/bench-pyinfra."""
from io import StringIO

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

ROOT = "/srv/bench-pyinfra"
UNIT = "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n"

apt.packages(name="packages", packages=["curl", "jq", "tree"], update=True, cache_time=86400)
for path in (ROOT, f"{ROOT}/conf", f"{ROOT}/static"):
    files.directory(name=f"directory {path}", path=path, mode="755")
changes = []
for i in range(1, 11):
    changes.append(files.template(name=f"template app{i}", src=f"templates/app{i}.conf.j2", dest=f"{ROOT}/conf/app{i}.conf", mode="644", tool="pyinfra", port=8002))
for name in ("motd", "static.txt"):
    files.put(name=f"static {name}", src=f"files/{name}", dest=f"{ROOT}/static/{name}", mode="644")
for unit in ("a", "b"):
    changes.append(files.put(name=f"unit {unit}", src=StringIO(UNIT), dest=f"/etc/systemd/system/bench-pyinfra-{unit}.service", mode="644"))
for unit in ("a", "b"):
    systemd.service(name=f"service {unit}", service=f"bench-pyinfra-{unit}.service", running=True, enabled=True, daemon_reload=True)
server.sysctl(name="sysctl", key="net.ipv4.tcp_keepalive_time", value=600, persist=True, persist_file="/etc/sysctl.d/90-bench-pyinfra.conf")
if not host.get_fact(File, path=f"{ROOT}/initialized"):
    server.shell(name="guarded command", commands=[f"date > {ROOT}/initialized"])
systemd.service(name="restart a", service="bench-pyinfra-a.service", restarted=True, _if=any_changed(*changes))
