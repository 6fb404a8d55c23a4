# Differential check: render cases with transformers' jinja2 env and with jinja-cli; print mismatches.
import json, subprocess, sys
from transformers.utils.chat_template_utils import _cached_compile_jinja_template

def tag(v):
    if v is None: return {"t": "none"}
    if isinstance(v, bool): return {"t": "bool", "v": v}
    if isinstance(v, int): return {"t": "int", "v": v}
    if isinstance(v, float): return {"t": "float", "v": v}
    if isinstance(v, str): return {"t": "str", "v": v}
    if isinstance(v, (list, tuple)): return {"t": "list", "v": [tag(x) for x in v]}
    return {"t": "obj", "v": [[k, tag(x)] for k, x in v.items()]}

ERRMAP = {"TemplateError": "raised", "TemplateSyntaxError": "syntax", "TemplateAssertionError": "unsupported"}
def py(src, ctx):
    full = {"messages": [], "tools": None, "documents": None, "add_generation_prompt": False, "bos_token": "", "eos_token": ""}
    full.update(ctx)
    try:
        t = _cached_compile_jinja_template(src)
    except Exception as e:
        return {"error": ERRMAP.get(type(e).__name__, "syntax"), "message": str(e), "line": getattr(e, "lineno", None), "pytype": type(e).__name__}
    try:
        return {"text": t.render(**full)}
    except Exception as e:
        return {"error": ERRMAP.get(type(e).__name__, "runtime"), "message": str(e), "pytype": type(e).__name__}

def run(cases, show_ok=False):
    inp = json.dumps([[s, tag(c)] for s, c in cases])
    out = subprocess.run(["/tmp/jinja-dev/.build/debug/jinja-cli"], input=inp.encode(), capture_output=True)
    if out.returncode != 0:
        print("CLI CRASH", out.stderr.decode()[-2000:]); return
    mine = json.loads(out.stdout)
    bad = 0
    for (s, c), m in zip(cases, mine):
        p = py(s, c)
        ok = (p.get("text") == m.get("text")) if "text" in p else (p.get("error") == m.get("error") and (p["message"] == m["message"] or p["error"] == "unsupported"))
        if not ok or show_ok:
            bad += not ok
            print(("OK " if ok else "MISMATCH ") + repr(s)[:300], json.dumps(c)[:200] if c else "")
            print("   py:  ", repr(p)[:400]); print("   mine:", repr(m)[:400])
    print(f"{len(cases)} cases, {bad} mismatches")

if __name__ == "__main__":
    cases = json.load(open(sys.argv[1]))
    run([(c[0], c[1] if len(c) > 1 else {}) for c in cases], show_ok="-v" in sys.argv)
