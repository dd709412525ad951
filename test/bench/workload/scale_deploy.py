"""The scale workload for pyinfra (npm run bench -- --light): the same work as scale.ts, under /srv/scale-pyinfra."""
from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server

ROOT = "/srv/scale-pyinfra"

apt.packages(name="packages", packages=["openssh-server", "python3"])
for path in (ROOT, f"{ROOT}/conf", f"{ROOT}/static"):
    files.directory(name=f"directory {path}", path=path, mode="755")
for i in range(1, 11):
    files.template(name=f"template app{i}", src=f"templates/app{i}.conf.j2", dest=f"{ROOT}/conf/app{i}.conf", mode="644", tool="pyinfra", port=8002)
for name in ("motd", "static.txt"):
    files.put(name=f"static {name}", src=f"files/{name}", dest=f"{ROOT}/static/{name}", mode="644")
if not host.get_fact(File, path=f"{ROOT}/initialized"):
    server.shell(name="guarded command", commands=[f"date > {ROOT}/initialized"])
host.get_fact(Command, command="sysctl -n net.ipv4.tcp_keepalive_time")
