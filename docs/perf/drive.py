"""drive.py PORT AUD TOKENS START COUNT CONC: COUNT vends (POST /vend, {"profile":"prod"}) over
CONC keep-alive connections with tokens[START:START+COUNT]; exits 1 unless every answer is 200.
Used by callgrind-vends.sh: a fixed number of requests, so instruction counts compare."""
import http.client, sys, threading
port, aud, path, start, count, conc = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
toks = open(path).read().split()[start:start + count]
assert len(toks) == count
bad = []
def run(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for t in toks[i::conc]:
        c.request("POST", "/vend", body=b'{"profile":"prod"}', headers={
            "Authorization": "Bearer " + t, "X-Tvm-Audience": aud, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 200: bad.append(r.status)
ths = [threading.Thread(target=run, args=(i,)) for i in range(conc)]
[t.start() for t in ths]; [t.join() for t in ths]
print("vends=%d non200=%d" % (count, len(bad)), bad[:3])
sys.exit(1 if bad else 0)
