#!/usr/bin/env bash
# callgrind-vends.sh TVM_BIN OUT [N] [CONC] [LIMITS]: callgrind instruction count of N vends
# (after 200 warm-up vends, not counted) of tvm serve against nginx as a zero-cost STS
# (perf.sh's); only tvm runs under valgrind, and only the N vends are instrumented.
# LIMITS=on sets every rate limit on (high enough never to refuse).
set -u
BIN=$1; OUT=$2; N=${3:-2000}; C=${4:-4}; LIM=${5:-off}; W=200
HERE=$(cd "$(dirname "$0")" && pwd)
# PERF_TOOLS: the reviewers' tools/perf (nginx.conf.in, gentok.py); PERF_PYTHON: a Python with boto3
P=${PERF_TOOLS:-$HERE/../../../shared/tools/perf}; PY=${PERF_PYTHON:-python3}
D=$(mktemp -d); trap 'kill $VP 2>/dev/null; [ -f $D/nginx.pid ] && kill $(cat $D/nginx.pid); sleep 1; rm -rf $D' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
SP=$(port); AP=$(port); MP=$(port)
sed "s#@DIR@#$D#g; s#127.0.0.1:18443#127.0.0.1:$SP#" "$P/nginx.conf.in" > $D/nginx.conf
nginx -c $D/nginx.conf -p $D || exit 1
cat > $D/policy.yaml <<Q
version: 1
profiles:
  prod: {role_arn: "arn:aws:iam::111122223333:role/TvmProtected-Prod", max_duration: 1h}
rules:
  - {name: alice, effect: allow, accounts: ["111122223333"], principals: ["arn:aws:iam::111122223333:user/eng/alice"], profiles: ["prod"]}
Q
AUD="http://127.0.0.1:$AP"
if [ "$LIM" = on ]; then
  RL="{rate_limit_per_minute: 10000000, rate_limit_burst: 1000000, caller_rate_limit_per_minute: 10000000, caller_rate_limit_burst: 1000000, role_rate_limit_per_minute: 10000000, role_rate_limit_burst: 1000000, max_connections: 4096}"
else
  RL="{rate_limit_per_minute: 0, max_connections: 4096}"
fi
cat > $D/tvm.yaml <<Y
listen: {addr: "127.0.0.1:$AP"}
admin: {addr: "127.0.0.1:$MP"}
auth: {audience: "$AUD", sts_endpoint_url: "http://127.0.0.1:$SP"}
sts: {region: us-east-1, endpoint_url: "http://127.0.0.1:$SP"}
stamp: {prefix: tvm}
policy: {file: "$D/policy.yaml"}
server: $RL
Y
$PY $P/gentok.py $((N + W)) $D/t.txt "$AUD" "http://127.0.0.1:$SP" || exit 1
AWS_ACCESS_KEY_ID=AKIATVM0000000000000 AWS_SECRET_ACCESS_KEY=tttttttttttttttttttttttttttttttttttttttt AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true valgrind --tool=callgrind --instr-atstart=no --dump-instr=no \
  --callgrind-out-file=$OUT "$BIN" serve --config $D/tvm.yaml > $D/tvm.log 2>&1 & VP=$!
for _ in $(seq 600); do curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:$AP/vend 2>/dev/null | grep -qv 000 && break; sleep 0.2; done
python3 "$HERE/drive.py" $AP "$AUD" $D/t.txt 0 $W $C || { tail -5 $D/tvm.log; exit 1; }
callgrind_control -i on $VP >/dev/null
python3 "$HERE/drive.py" $AP "$AUD" $D/t.txt $W $N $C || { tail -5 $D/tvm.log; exit 1; }
callgrind_control -i off $VP >/dev/null
kill -TERM $VP; wait $VP
ir=$(callgrind_annotate $OUT 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "vends=$N conc=$C limits=$LIM Ir=$ir Ir_per_vend=$((ir / N)) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
