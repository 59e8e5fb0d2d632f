"""Tests of the helm/tvm chart's template logic, on `helm template` output.

usage: python chart_test.py HELM METRICS_FILE TVM
  HELM          the helm binary
  METRICS_FILE  /metrics text scraped from a running tvm (every metric name a
                dashboard panel or an alert uses must be in it)
  TVM           the tvm binary (the rendered tvm.yaml must start it)

Each test renders the chart with some values and asserts on the objects.
Exit status 1 when any test fails.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import yaml

HELM, METRICS_FILE, TVM = sys.argv[1], sys.argv[2], sys.argv[3]
CHART = "helm/tvm"
REDIS = ["state.redis.enabled=true", "state.redis.existingSecret=tvm-redis"]


def render(*sets, values=None, ok=True):
    """Objects rendered with `--set` pairs (or a values dict); with ok=False,
    the error text of a render that must fail."""
    cmd = [HELM, "template", "t", CHART, "-n", "tvm"]
    for s in sets:
        cmd += [s] if s.startswith("--") else ["--set", s]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        if values is not None:
            yaml.safe_dump(values, f)
            f.flush()
            cmd += ["-f", f.name]
        out = subprocess.run(cmd, capture_output=True, text=True)
    if not ok:
        assert out.returncode != 0, f"render should fail: {sets} {values}"
        return out.stderr
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def one(objs, kind):
    found = [o for o in objs if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def kinds(objs):
    return sorted(o["kind"] for o in objs)


def pod(objs):
    return one(objs, "Deployment")["spec"]["template"]


def container(objs):
    return pod(objs)["spec"]["containers"][0]


def tvm_yaml(objs):
    cm = [o for o in objs if o["kind"] == "ConfigMap" and "tvm.yaml" in o["data"]]
    return yaml.safe_load(cm[0]["data"]["tvm.yaml"])


def env(objs):
    return {e["name"]: e for e in container(objs).get("env", [])}


def services(objs):
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == "Service"}


def api_service(objs):
    return services(objs)[one(objs, "Deployment")["metadata"]["name"]]


def admin_service(objs):
    return services(objs)[one(objs, "Deployment")["metadata"]["name"] + "-metrics"]


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def default_render_is_one_replica_without_pdb_or_hpa():
    objs = render()
    assert kinds(objs) == ["ConfigMap", "Deployment", "NetworkPolicy", "Service", "Service", "ServiceAccount"], kinds(objs)
    assert one(objs, "Deployment")["spec"]["replicas"] == 1


@test
def probes_are_on_the_admin_port():
    objs = render()
    c = container(objs)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert c["startupProbe"]["httpGet"] == {"path": "/livez", "port": "admin"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "admin"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    cfg = tvm_yaml(objs)
    assert cfg["admin"]["addr"].endswith(f":{ports['admin']}")
    assert cfg["listen"]["addr"].endswith(f":{ports['api']}")
    objs = render("ports.admin=9191")
    assert tvm_yaml(objs)["admin"]["addr"] == "0.0.0.0:9191"


@test
def pod_security_is_restricted():
    objs = render()
    spec = pod(objs)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["enableServiceLinks"] is False
    assert spec["automountServiceAccountToken"] is False
    sc = container(objs)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532
    assert container(objs)["resources"]["limits"]["memory"]


@test
def grace_period_outlasts_the_drain():
    for sets in [(), ("config.server.shutdownDelaySeconds=30", "config.server.requestTimeoutSeconds=60")]:
        objs = render(*sets)
        cfg = tvm_yaml(objs)
        secs = lambda d: int(d.rstrip("s"))
        grace = pod(objs)["spec"]["terminationGracePeriodSeconds"]
        s = cfg["server"]
        assert grace > secs(s["shutdown_delay"]) + secs(s["request_timeout"]), (grace, s)
        assert grace > secs(s["shutdown_delay"]) + secs(s["shutdown_timeout"]), (grace, s)
    err = render("terminationGracePeriodSeconds=10", ok=False)
    assert "terminationGracePeriodSeconds" in err, err


@test
def config_is_mounted_as_a_directory_never_subpath():
    for objs in [render(), render(values=yaml.safe_load(open(f"{CHART}/ci/all-features-values.yaml")))]:
        c = container(objs)
        assert all("subPath" not in m and "subPathExpr" not in m for m in c["volumeMounts"]), c["volumeMounts"]
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        cfg = tvm_yaml(objs)
        assert env(objs)["TVM_CONFIG"]["value"] == f"{mounts['config']}/tvm.yaml"
        assert cfg["policy"]["file"] == f"{mounts['config']}/policy.yaml"
        cm = [o for o in objs if o["kind"] == "ConfigMap" and "tvm.yaml" in o["data"]][0]
        vol = [v for v in pod(objs)["spec"]["volumes"] if v["name"] == "config"][0]
        assert vol["configMap"] == {"name": cm["metadata"]["name"]}, "whole ConfigMap, no items"


@test
def checksum_covers_the_config_only():
    ann = lambda objs: pod(objs)["metadata"]["annotations"]["checksum/config"]
    base = ann(render())
    assert ann(render(values={"policy": "version: 1\nprofiles: {}\nrules: []\n# changed\n"})) == base, "a policy change must not roll pods"
    assert ann(render("config.sts.region=eu-west-1")) != base, "a config change must roll pods"
    objs = render("existingConfigMap=my-tvm")
    assert "ConfigMap" not in kinds(objs)
    assert "checksum/config" not in (pod(objs)["metadata"].get("annotations") or {})
    vol = [v for v in pod(objs)["spec"]["volumes"] if v["name"] == "config"][0]
    assert vol["configMap"]["name"] == "my-tvm"


@test
def schema_rejects_bad_values():
    bad = [
        ("replicaCount=0",),
        ("image.pullPolicy=Sometimes",),
        ("notAValue=1",),
        ("config.sts.region=Mars",),
        ("config.stamp.prefix=t.v.m",),
        ("config.server.requestTimeoutSeconds=5",),
        ("config.auth.audience[0]=http://tvm.example.com",),
        ("config.auth.audience[0]=https://tvm.example.com/path",),
        ("config.auth.audience=tvm.example.com",),
        ("database.type=mysql",),
        ("database.type=sqlite", "database.retention=1h"),
        ("networkPolicy.stsCidrs[0]=everywhere",),
        ("image.digest=latest",),
    ]
    for sets in bad:
        err = render(*sets, ok=False)
        assert "schema" in err.lower() or "values don't meet" in err.lower() or "validation" in err.lower(), (sets, err)
    render("config.auth.audience[0]=http://127.0.0.1:8080")


@test
def several_replicas_need_shared_state():
    # Refused twice over: by the schema (helm install/template/lint) and, should
    # the schema be skipped, by the template's own `fail`.
    for sets in [("replicaCount=2",), ("autoscaling.enabled=true",),
                 ("replicaCount=2", "state.redis.enabled=false", "podDisruptionBudget.enabled=true")]:
        err = render(*sets, ok=False)
        assert "values don't meet" in err.lower() or "schema" in err.lower(), (sets, err)
        assert "redis" in err, (sets, err)
        err = render(*sets, "--skip-schema-validation", ok=False)
        assert "needs state.redis.enabled" in err, (sets, err)
    objs = render("replicaCount=3", *REDIS)
    cfg = tvm_yaml(objs)
    assert cfg["state"] == {"key_prefix": "tvm:", "rate_limit_failure": "open",
                            "readiness_grace": "30s", "command_timeout": "1s"}, cfg
    assert "redis_url" not in cfg["state"], "the URL comes only from the Secret"
    objs = render("replicaCount=2", *REDIS, "state.redis.rateLimitFailure=closed", "state.redis.keyPrefix=prod-tvm:")
    assert tvm_yaml(objs)["state"]["rate_limit_failure"] == "closed"
    assert tvm_yaml(objs)["state"]["key_prefix"] == "prod-tvm:"
    assert render("replicaCount=2", *REDIS, "state.redis.rateLimitFailure=sometimes", ok=False)
    assert "state" not in tvm_yaml(render()), "one replica in memory by default"
    objs = render("replicaCount=3", *REDIS)
    assert "PodDisruptionBudget" in kinds(objs)
    assert env(objs)["TVM_STATE__REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "tvm-redis", "key": "url"}
    objs = render("autoscaling.enabled=true", *REDIS)
    hpa = one(objs, "HorizontalPodAutoscaler")
    assert "replicas" not in one(objs, "Deployment")["spec"], "the HPA owns replicas"
    assert hpa["spec"]["scaleTargetRef"]["name"] == one(objs, "Deployment")["metadata"]["name"]


@test
def sqlite_database_gets_a_volume_and_recreate():
    objs = render("database.type=sqlite")
    pvc = one(objs, "PersistentVolumeClaim")
    dep = one(objs, "Deployment")
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    claim = [v for v in pod(objs)["spec"]["volumes"] if v["name"] == "data"][0]
    assert claim["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    # The same file as before the key moved, so an upgrade keeps its data.
    assert tvm_yaml(objs)["database"] == {"url": "sqlite:///var/lib/tvm/approvals.db", "retention": "90d"}
    assert "approvals" not in tvm_yaml(objs)
    assert "one replica" in render("database.type=sqlite", "replicaCount=2", *REDIS, ok=False)
    objs = render("database.type=postgres", "database.postgres.existingSecret=pg", "database.retention=36h")
    assert "PersistentVolumeClaim" not in kinds(objs)
    assert env(objs)["TVM_DATABASE__URL"]["valueFrom"]["secretKeyRef"] == {"name": "pg", "key": "url"}
    assert "TVM_APPROVALS__DATABASE_URL" not in env(objs)
    # The URL (a password) only from the Secret, never the ConfigMap.
    assert tvm_yaml(objs)["database"] == {"retention": "36h"}
    assert one(objs, "Deployment")["spec"]["strategy"]["type"] == "RollingUpdate"
    assert "database" not in tvm_yaml(render()), "no database by default"


@test
def the_old_approvals_values_name_the_new_ones():
    """approvals.database moved to database (DESIGN §13); the chart says so
    rather than rendering a tvm without its database."""
    err = render("approvals.database.type=sqlite", ok=False)
    assert "approvals.database moved to database" in err, err
    err = render("--skip-schema-validation", "approvals.database.type=sqlite", ok=False)
    assert "approvals.database moved to database" in err, err
    for name in ["TVM_DATABASE__URL", "TVM_APPROVALS__DATABASE_URL"]:
        err = render(values={"extraEnv": [{"name": name, "value": "sqlite:///tmp/x.db"}]}, ok=False)
        assert name in err and "database.postgres.existingSecret" in err, err


@test
def tls_mounts_the_secret_as_a_directory():
    assert "secretName" in render("tls.enabled=true", ok=False)
    objs = render("tls.enabled=true", "tls.secretName=tvm-tls")
    mounts = {m["name"]: m for m in container(objs)["volumeMounts"]}
    assert "subPath" not in mounts["tls"]
    vol = [v for v in pod(objs)["spec"]["volumes"] if v["name"] == "tls"][0]
    assert vol["secret"] == {"secretName": "tvm-tls"}
    tls = tvm_yaml(objs)["listen"]["tls"]
    assert tls == {"cert_file": mounts["tls"]["mountPath"] + "/tls.crt", "key_file": mounts["tls"]["mountPath"] + "/tls.key"}
    svc = api_service(objs)
    assert [p["name"] for p in svc["spec"]["ports"]] == ["https"]
    assert "tls" not in tvm_yaml(render())["listen"], "plain HTTP by default"


@test
def audience_is_a_list_and_irsa_annotation_lands_on_the_service_account():
    objs = render(values={
        "config": {"auth": {"audience": ["https://tvm.example.com", "https://tvm.tvm.svc"]}},
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/tvm"}},
    })
    assert tvm_yaml(objs)["auth"]["audience"] == ["https://tvm.example.com", "https://tvm.tvm.svc"]
    sa = one(objs, "ServiceAccount")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/tvm")
    assert pod(objs)["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert "eks_cluster_id" not in tvm_yaml(objs)["auth"], "off unless set"
    assert "state" not in tvm_yaml(objs), "tvm's own defaults unless set"
    assert tvm_yaml(render("config.state.replayCapacity=5000"))["state"] == {"replay_capacity": 5000}
    merged = tvm_yaml(render("config.extra.server.caller_rate_limit_per_minute=10"))["server"]
    assert merged["caller_rate_limit_per_minute"] == 10 and merged["request_timeout"] == "15s", merged


@test
def network_policy_limits_ingress_and_egress():
    objs = render(values={
        "networkPolicy": {
            "apiFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}],
            "extraEgress": [{"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"port": 6379, "protocol": "TCP"}]}],
        }
    })
    np = one(objs, "NetworkPolicy")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    api, admin = np["ingress"]
    assert api["ports"] == [{"port": "api", "protocol": "TCP"}]
    assert api["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "ingress"
    assert admin["ports"] == [{"port": "admin", "protocol": "TCP"}]
    assert admin["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
    egress_ports = [(p["port"], p["protocol"]) for rule in np["egress"] for p in rule["ports"]]
    for want in [(53, "UDP"), (53, "TCP"), (443, "TCP"), (80, "TCP"), (6379, "TCP")]:
        assert want in egress_ports, (want, egress_ports)
    assert "NetworkPolicy" not in kinds(render("networkPolicy.enabled=false"))


def exported_metrics():
    names = set()
    for line in open(METRICS_FILE):
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                names |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
    assert "tvm_vend_total" in names and "process_cpu_seconds_total" in names, "a real scrape"
    return names


def metric_names(expr):
    return set(re.findall(r"\b((?:tvm|process)_[a-z0-9_]+)\b", expr))


@test
def monitoring_objects_have_their_required_fields_and_real_metrics():
    objs = render("serviceMonitor.enabled=true", "prometheusRule.enabled=true", "grafanaDashboard.enabled=true")
    exported = exported_metrics()
    svc = admin_service(objs)
    sm = one(objs, "ServiceMonitor")["spec"]
    assert sm["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert not sm["selector"]["matchLabels"].items() <= api_service(objs)["metadata"]["labels"].items()
    assert sm["endpoints"][0]["port"] in [p["name"] for p in svc["spec"]["ports"]]
    rules = one(objs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    alerts = {r["alert"] for r in rules}
    for want in ["TvmHighErrorRate", "TvmStsThrottled", "TvmPolicyReloadFailed", "TvmReplayStoreNearlyFull", "TvmIdentityNotVerified"]:
        assert want in alerts, want
    exprs = [r["expr"] for r in rules]
    dash_cm = [o for o in objs if o["kind"] == "ConfigMap" and "tvm.json" in o.get("data", {})][0]
    assert dash_cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dash = json.loads(dash_cm["data"]["tvm.json"])
    panels = dash["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "unique panel ids"
    for p in panels:
        assert p["targets"], p["title"]
        exprs += [t["expr"] for t in p["targets"]]
    used = set().union(*(metric_names(e) for e in exprs))
    missing = sorted(used - exported)
    assert not missing, f"queries name metrics tvm does not export: {missing}"
    titles = " ".join(p["title"].lower() for p in panels)
    for want in ["vends by outcome", "latency", "sts", "throttling", "policy reloads", "replay store", "refused connections"]:
        assert want in titles, want


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@test
def rendered_config_starts_tvm():
    """The chart and the binary agree on every key: `tvm serve` loads the rendered
    tvm.yaml and policy.yaml (moved to a temporary directory and loopback ports;
    TLS left out, its files being a Secret, and a Postgres database, its URL
    being one: check_config covers both with the Secrets filled in)."""
    all_features = yaml.safe_load(open(f"{CHART}/ci/all-features-values.yaml"))
    for objs in [render(), render(values=all_features)]:
        cm = [o for o in objs if o["kind"] == "ConfigMap" and "tvm.yaml" in o["data"]][0]
        cfg = yaml.safe_load(cm["data"]["tvm.yaml"])
        with tempfile.TemporaryDirectory() as d:
            with open(f"{d}/policy.yaml", "w") as f:
                f.write(cm["data"]["policy.yaml"])
            cfg["policy"]["file"] = f"{d}/policy.yaml"
            if "url" not in cfg.get("database", {"url": None}):
                del cfg["database"]
            cfg["listen"] = {"addr": f"127.0.0.1:{free_port()}"}
            admin = free_port()
            cfg["admin"]["addr"] = f"127.0.0.1:{admin}"
            with open(f"{d}/tvm.yaml", "w") as f:
                yaml.safe_dump(cfg, f)
            env = {"PATH": os.environ.get("PATH", ""), "HOME": d, "AWS_EC2_METADATA_DISABLED": "true"}
            proc = subprocess.Popen([TVM, "serve", "--config", f"{d}/tvm.yaml"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                live = False
                for _ in range(100):
                    if proc.poll() is not None:
                        break
                    try:
                        live = urllib.request.urlopen(f"http://127.0.0.1:{admin}/livez", timeout=1).status == 200
                        break
                    except OSError:
                        time.sleep(0.1)
            finally:
                proc.terminate()
                out, _ = proc.communicate(timeout=30)
            assert live, f"tvm serve refused the rendered config (exit {proc.returncode}):\n{out}"

def check_config(objs):
    """`tvm serve --check-config` on the rendered tvm.yaml and policy.yaml as the
    pod sees them: TVM_CONFIG and the other variables of the Deployment (values
    from Secrets replaced by plausible URLs), the files moved to a temporary
    directory (a throw-away self-signed pair for TLS). (exit code, output)"""
    cm = [o for o in objs if o["kind"] == "ConfigMap" and "tvm.yaml" in o["data"]][0]
    cfg = yaml.safe_load(cm["data"]["tvm.yaml"])
    secrets = {"TVM_STATE__REDIS_URL": "redis://:pw@redis.tvm.svc:6379",
               "TVM_DATABASE__URL": "postgres://tvm:pw@postgres.tvm.svc/tvm"}
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/policy.yaml", "w") as f:
            f.write(cm["data"]["policy.yaml"])
        assert cfg["policy"]["file"] == "/etc/tvm/policy.yaml", cfg["policy"]
        cfg["policy"]["file"] = f"{d}/policy.yaml"
        if "tls" in cfg["listen"]:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", f"{d}/tls.key", "-out", f"{d}/tls.crt", "-subj", "/CN=tvm", "-days", "1"],
                           check=True, capture_output=True)
            cfg["listen"]["tls"] = {"cert_file": f"{d}/tls.crt", "key_file": f"{d}/tls.key"}
        with open(f"{d}/tvm.yaml", "w") as f:
            yaml.safe_dump(cfg, f)
        run_env = {"PATH": os.environ.get("PATH", ""), "HOME": d}
        for e in container(objs).get("env", []):
            if "value" in e:
                run_env[e["name"]] = e["value"]
            else:
                assert e["valueFrom"]["secretKeyRef"]["name"], e
                run_env[e["name"]] = secrets[e["name"]]
        assert run_env["TVM_CONFIG"] == "/etc/tvm/tvm.yaml"
        run_env["TVM_CONFIG"] = f"{d}/tvm.yaml"
        out = subprocess.run([TVM, "serve", "--check-config"], env=run_env, capture_output=True, text=True, timeout=30)
        return out.returncode, out.stdout + out.stderr


def all_features():
    return yaml.safe_load(open(f"{CHART}/ci/all-features-values.yaml"))


# Value sets whose rendered config must pass `tvm serve --check-config`.
VALUE_SETS = [
    ("default", (), None),
    ("all-features", (), "all-features"),
    ("sqlite database", ("database.type=sqlite", "database.retention=36h"), None),
    ("replicas with redis", ("replicaCount=3", *REDIS, "state.redis.rateLimitFailure=closed",
                             "state.redis.readinessGrace=0s", "state.redis.commandTimeout=10s"), None),
    ("limits at their bounds", ("config.auth.maxClockSkew=15m", "config.policy.pollInterval=100ms",
                                "config.server.trustedProxies={10.0.0.0/8,fd00::/8,2001:db8::/32}",
                                "config.server.requestTimeoutSeconds=14", "config.state.replayCapacity=1000",
                                "config.server.rateLimitPerMinute=0", "config.server.rateLimitBurst=0"), None),
    ("tls and a load balancer", ("tls.enabled=true", "tls.secretName=tvm-tls", "service.type=LoadBalancer",
                                 "ports.admin=9191", "config.stamp.prefix=Abcdefghij123456"), None),
    ("custom sts endpoint", ("config.sts.endpointUrl=https://sts.vpce.example", "config.sts.region=xx-local-1",
                             "config.auth.eksClusterId=tvm-compat"), None),
]


@test
def every_rendered_config_passes_check_config():
    for name, sets, values in VALUE_SETS:
        objs = render(*sets, values=all_features() if values else None)
        code, out = check_config(objs)
        assert code == 0, f"{name}: tvm serve --check-config exit {code}:\n{out}"
        assert "configuration is valid" in out, out


@test
def check_config_catches_what_the_chart_cannot_see():
    # A config.extra key the chart passes through as written: the schema cannot
    # know it; the check does.
    code, out = check_config(render("config.extra.server.idle_timeout=1h"))
    assert code == 64 and "server.idle_timeout" in out, (code, out)
    code, out = check_config(render(values={"policy": "version: 1\nprofiles: {}\nrules: [{bogus: 1}]\n"}))
    assert code == 64 and "policy.file" in out, (code, out)


# (a --set, whether tvm accepts it): the schema must say the same as tvm.
MIRRORED = [
    ("config.auth.maxClockSkew=1s", True), ("config.auth.maxClockSkew=900s", True),
    ("config.auth.maxClockSkew=15m", True), ("config.auth.maxClockSkew=1000ms", True),
    ("config.auth.maxClockSkew=1h", False), ("config.auth.maxClockSkew=16m", False),
    ("config.auth.maxClockSkew=901s", False), ("config.auth.maxClockSkew=999ms", False),
    ("config.auth.maxClockSkew=0s", False),
    ("config.policy.pollInterval=100ms", True), ("config.policy.pollInterval=1h", True),
    ("config.policy.pollInterval=99ms", False), ("config.policy.pollInterval=61m", False),
    ("state.redis.readinessGrace=0s", True), ("state.redis.readinessGrace=10m", True),
    ("state.redis.readinessGrace=601s", False),
    ("state.redis.commandTimeout=50ms", True), ("state.redis.commandTimeout=10s", True),
    ("state.redis.commandTimeout=49ms", False), ("state.redis.commandTimeout=11s", False),
    ("config.state.replayCapacity=1000", True), ("config.state.replayCapacity=100000000", True),
    ("config.state.replayCapacity=999", False), ("config.state.replayCapacity=100000001", False),
    ("config.server.trustedProxies[0]=10.0.0.0/8", True), ("config.server.trustedProxies[0]=192.0.2.7", True),
    ("config.server.trustedProxies[0]=2001::/16", True), ("config.server.trustedProxies[0]=fc00::/7", True),
    ("config.server.trustedProxies[0]=fd00::/8", True),
    ("config.server.trustedProxies[0]=0.0.0.0/0", False), ("config.server.trustedProxies[0]=8.0.0.0/7", False),
    ("config.server.trustedProxies[0]=::/0", False), ("config.server.trustedProxies[0]=2000::/15", False),
    ("config.server.trustedProxies[0]=fc00::/6", False),
    ("config.sts.region=eu-central-1", True), ("config.sts.region=cn-north-1", True),
    ("config.sts.region=us-gov-west-1", True), ("config.sts.region=us-eest-1", False),
    ("config.auth.stsEndpointUrl=https://sts.example.com", True),
    ("config.auth.stsEndpointUrl=http://127.0.0.1:4599", True),
    ("config.auth.stsEndpointUrl=http://sts.example.com", False),
    ("config.sts.endpointUrl=http://sts.example.com", False),
    ("config.auth.eksClusterId=tvm-compat", True), ("config.auth.eksClusterId=a.b", False),
    ("config.stamp.prefix=Abcdefghij123456", True), ("config.stamp.prefix=Abcdefghij1234567", False),
    ("config.server.requestTimeoutSeconds=14", True), ("config.server.requestTimeoutSeconds=13", False),
    ("config.server.requestTimeoutSeconds=301", False),
    ("config.server.maxBodyBytes=256", True), ("config.server.maxBodyBytes=255", False),
    ("config.server.maxConnections=0", False),
    ("config.server.rateLimitBurst=0", False),
    ("state.redis.keyPrefix=a b", False),
    ("database.retention=36h", True), ("database.retention=2d", True), ("database.retention=3650d", True),
    ("database.retention=35h", False), ("database.retention=1d", False), ("database.retention=1h", False),
    ("database.retention=3651d", False),
]


@test
def schema_mirrors_what_tvm_accepts():
    """Each value is judged twice: by the schema (helm template) and by tvm
    (check-config on the render without the schema). Both must agree with the
    expectation, so a schema looser or stricter than tvm fails here."""
    for sets, ok in MIRRORED:
        extra = REDIS if sets.startswith("state.redis.") else []
        if sets.startswith("database."):
            extra = ["database.type=sqlite"]
        schema_ok = True
        try:
            render(sets, *extra)
        except AssertionError as e:
            schema_ok = False
            assert "values don't meet" in str(e), (sets, str(e))
        assert schema_ok == ok, f"schema says {'ok' if schema_ok else 'no'} to {sets}"
        code, out = check_config(render(sets, *extra, "--skip-schema-validation"))
        assert (code == 0) == ok, f"tvm says exit {code} to {sets}:\n{out}"
        if not ok:
            assert code == 64, (sets, out)


@test
def helm_refuses_values_tvm_would_crash_loop_on():
    for sets, says in [
        (("config.auth.maxClockSkew=1h",), "maxClockSkew"),
        (("ports.admin=8080",), "ports.admin must differ from ports.api"),
        (("ports.api=9090",), "ports.admin must differ from ports.api"),
        (("service.publishAdminPort=true", "service.metricsPort=80"), "service.metricsPort must differ"),
        (("config.extra.state.redis_url=redis://h",), "never the ConfigMap"),
    ]:
        err = render(*sets, ok=False)
        assert says in err or "values don't meet" in err, (sets, err)
    err = render("--skip-schema-validation", values={"extraEnv": [{"name": "TVM_STATE__REDIS_URL", "value": ""}]}, ok=False)
    assert "extraEnv must not set TVM_STATE__REDIS_URL" in err, err


@test
def several_replicas_need_the_redis_secret_reference():
    for sets in [("replicaCount=2", "state.redis.enabled=true"),
                 ("autoscaling.enabled=true", "state.redis.enabled=true"),
                 ("replicaCount=2", "state.redis.enabled=true", "state.redis.existingSecret=  "),
                 ("replicaCount=2", "state.redis.enabled=true", "state.redis.existingSecret=tvm-redis", "state.redis.key= ")]:
        err = render(*sets, ok=False)
        assert "values don't meet" in err, (sets, err)
        err = render(*sets, "--skip-schema-validation", ok=False)
        assert "existingSecret" in err and "replay store" in err, (sets, err)


@test
def load_balancer_publishes_the_api_port_only():
    objs = render("service.type=LoadBalancer")
    api, admin = api_service(objs), admin_service(objs)
    assert api["spec"]["type"] == "LoadBalancer"
    assert [p["targetPort"] for p in api["spec"]["ports"]] == ["api"], api["spec"]["ports"]
    assert admin["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["targetPort"]) for p in admin["spec"]["ports"]] == [("metrics", "admin")]
    objs = render("service.type=NodePort")
    assert [p["targetPort"] for p in api_service(objs)["spec"]["ports"]] == ["api"]
    assert admin_service(objs)["spec"]["type"] == "ClusterIP"
    # Only when asked for.
    objs = render("service.type=LoadBalancer", "service.publishAdminPort=true")
    assert [p["targetPort"] for p in api_service(objs)["spec"]["ports"]] == ["api", "admin"]
    long = render("fullnameOverride=" + "x" * 63)
    assert all(len(n) <= 63 for n in services(long)), list(services(long))



def main():
    failed = 0
    for t in TESTS:
        try:
            t()
            print(f"ok    {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL  {t.__name__}")
            traceback.print_exc()
    print(f"chart tests: {len(TESTS) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
