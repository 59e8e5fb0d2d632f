"""callgrind-crates.py CALLGRIND_OUT VENDS: self instructions per vend by the crate of the function
they ran in (std's generic code inlined into a crate's function counts for that crate)."""
import re, subprocess, sys, collections
out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", sys.argv[1]], capture_output=True, text=True).stdout
n = int(sys.argv[2])
G = {"hyper": "hyper, hyper-util, http, httparse, bytes", "hyper_util": "hyper, hyper-util, http, httparse, bytes", "http": "hyper, hyper-util, http, httparse, bytes",
     "httparse": "hyper, hyper-util, http, httparse, bytes", "bytes": "hyper, hyper-util, http, httparse, bytes", "http_body_util": "hyper, hyper-util, http, httparse, bytes",
     "tracing": "tracing, tracing-subscriber", "tracing_core": "tracing, tracing-subscriber", "tracing_subscriber": "tracing, tracing-subscriber", "tracing_serde": "tracing, tracing-subscriber", "sharded_slab": "tracing, tracing-subscriber",
     "sha2": "sha2, hmac, digest", "hmac": "sha2, hmac, digest", "digest": "sha2, hmac, digest", "block_buffer": "sha2, hmac, digest",
     "serde_json": "serde, serde_json", "serde_core": "serde, serde_json", "serde": "serde, serde_json",
     "tokio": "tokio, futures, mio", "futures_util": "tokio, futures, mio", "futures_core": "tokio, futures, mio", "mio": "tokio, futures, mio",
     "axum": "axum, tower, matchit", "axum_core": "axum, tower, matchit", "tower": "axum, tower, matchit", "matchit": "axum, tower, matchit",
     "core": "std (core, alloc: fmt, utf-8, Vec/String growth)", "alloc": "std (core, alloc: fmt, utf-8, Vec/String growth)", "std": "std (core, alloc: fmt, utf-8, Vec/String growth)",
     "tikv_jemallocator": "jemalloc", "quick_xml": "quick-xml", "aws_sigv4": "aws-sigv4", "jiff": "jiff", "base64": "base64", "hashbrown": "hashbrown"}
def crate(fn):
    s = fn
    while True:
        m = re.match(r"<([^<>]*?(?:<[^<>]*>)?[^<>]*?) as ([\w:]+)", s)
        if s.startswith("<") and m:
            a, b = m.group(1), m.group(2)
            a = re.sub(r"^(&|\*|mut |const |dyn |<)+", "", a)
            if re.match(r"^[A-Z]\w*$", a) or a.startswith("["): s = b
            else: s = a
            continue
        if s.startswith("<"): s = s[1:]; continue
        break
    return re.sub(r"^(&|\*|mut |const |dyn )+", "", s).split("::", 1)[0]
tot = collections.Counter(); total = 0
for line in out.splitlines():
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$", line)
    if not m or "PROGRAM TOTALS" in line: continue
    ir = int(m.group(1).replace(",", "")); loc = m.group(2)
    fn = loc.split(":", 1)[1] if ":" in loc else loc
    fn = re.sub(r" \[[^\]]*\]$", "", fn)
    if "libc.so" in loc: k = "libc (memcpy, memcmp)"
    elif fn.startswith("_rjem") or "jemalloc" in loc and not fn.startswith(("alloc", "<")) or fn.startswith(("do_rallocx", "arena_", "tcache_")): k = "jemalloc"
    else:
        c = crate(fn); k = "tvm" if c == "tvm" else G.get(c, c)
    tot[k] += ir; total += ir
for k, v in tot.most_common(18):
    print(f"| {k} | {v/n:,.0f} | {100*v/total:.1f}% |")
print(f"| total | {total/n:,.0f} | |")
