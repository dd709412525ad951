# Proves LiveKit's webhook is delivered: creates and deletes a throwaway room over LiveKit's API
# (a token minted from the key file, never on the command line), then waits (up to 25 s) for LiveKit to log
# that it sent the room_started event to its webhook URL, and prints that line.
import base64, hashlib, hmac, json, re, secrets, subprocess, sys, time, urllib.request

key_file, container, api = sys.argv[1], sys.argv[2], sys.argv[3]
key, secret = (part.strip() for part in open(key_file).read().split(":", 1))
b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
now = int(time.time())
claims = {"iss": key, "sub": "rigger-verify", "nbf": now - 5, "exp": now + 60, "video": {"roomCreate": True}}
unsigned = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
token = unsigned + "." + b64(hmac.new(secret.encode(), unsigned.encode(), hashlib.sha256).digest())
room = "rigger-verify-" + secrets.token_hex(4)
since = str(now - 1)
# LiveKit logs to stderr.
logs = lambda *since: subprocess.run(["docker", "logs", *since, container], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
# The room on this node (as it starts, LiveKit logs its node id): in distributed mode another node
# could take it, and send the webhook there.
node = re.findall(r'"nodeID": "(ND_\w+)"', logs())
create = {"name": room, **({"node_id": node[-1]} if node else {})}
for method, body in (("CreateRoom", create), ("DeleteRoom", {"room": room})):
    request = urllib.request.Request(api + "/twirp/livekit.RoomService/" + method, json.dumps(body).encode(),
                                     {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()
# LiveKit tries a URL 5 times over about 15 s before it logs the failure with its reason.
deadline = time.time() + 25
while True:
    lines = [line for line in logs("--since", since).splitlines() if room in line and "webhook" in line]
    sent = [line for line in lines if "sent webhook" in line and "room_started" in line]
    if sent:
        print(sent[0])
        sys.exit(0)
    failed = [line for line in lines if "failed to send webhook" in line]
    if failed or time.time() > deadline:
        print("\n".join(failed or ["no webhook was sent for room " + room + " within 25 s"]))
        sys.exit(1)
    time.sleep(0.2)
