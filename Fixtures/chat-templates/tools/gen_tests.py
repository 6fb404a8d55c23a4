# Generates the construct tests: each template is rendered by Python jinja2 3.1.6 in
# transformers' environment, and its output is written into the Swift test as a literal.
import json, sys
from diff import py

def swift_str(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\": out.append("\\\\")
        elif ch == '"': out.append('\\"')
        elif ch == "\n": out.append("\\n")
        elif ch == "\r": out.append("\\r")
        elif ch == "\t": out.append("\\t")
        elif o < 0x20 or o == 0x7f or (0x80 <= o and not ch.isprintable()) or o >= 0x2028 and o <= 0x2029:
            out.append("\\u{%x}" % o)
        else: out.append(ch)
    return '"' + "".join(out) + '"'

def swift_value(v):
    if v is None: return ".none"
    if isinstance(v, bool): return f".bool({'true' if v else 'false'})"
    if isinstance(v, int): return f".integer({v})"
    if isinstance(v, float): return f".double({v!r})"
    if isinstance(v, str): return f".string({swift_str(v)})"
    if isinstance(v, (list, tuple)): return ".array([" + ", ".join(swift_value(x) for x in v) + "])"
    return ".object([" + ", ".join(f"({swift_str(k)}, {swift_value(x)})" for k, x in v.items()) + "])"

def swift_vars(ctx):
    ctx = {k: v for k, v in ctx.items() if k != "messages"}
    if not ctx: return ""
    return ", variables: [" + ", ".join(f"{swift_str(k)}: {swift_value(v)}" for k, v in ctx.items()) + "]"

def emit_case(src, ctx):
    p = py(src, ctx)
    msgs = ctx.get("messages")
    extra = swift_vars(ctx) + (", messages: [" + ", ".join(swift_value(m) for m in msgs) + "]" if msgs else "")
    if "text" in p:
        return f"        try assertRenders({swift_str(src)}{extra}, {swift_str(p['text'])})"
    kind = p["error"]
    if kind == "raised":
        return f"        assertTemplateError({swift_str(src)}{extra}, .raised(message: {swift_str(p['message'])}))"
    if kind == "runtime":
        return f"        assertTemplateRuntimeError({swift_str(src)}{extra}, {swift_str(p['message'])})"
    if kind == "syntax":
        return f"        assertTemplateSyntaxError({swift_str(src)}{extra}, line: {p['line']}, {swift_str(p['message'])})"
    raise SystemExit(f"unexpected {p} for {src!r}")

def emit_file(path, legend, classname, groups):
    lines = [f"// {l}" if l else "//" for l in legend] + ["", "import XCTest", "@testable import GPTTokenizers", "",
             "// Every expected string and message below was produced by Python jinja2 3.1.6 in the environment",
             "// transformers 5.24.0 builds for chat templates (ImmutableSandboxedEnvironment, trim_blocks,",
             "// lstrip_blocks, loopcontrols, its tojson/raise_exception/namespace), rendering each template with",
             "// messages=[], tools=None, documents=None, add_generation_prompt=False, bos_token='', eos_token=''",
             "// plus the variables shown. To add a case, compute its expectation the same way.", "",
             f"final class {classname}: XCTestCase {{"]
    for name, doc, cases in groups:
        lines.append(f"    /// {doc}")
        lines.append(f"    func test{name}() throws {{")
        lines += [emit_case(s, c) for s, c in cases]
        lines.append("    }")
        lines.append("")
    lines[-1] = "}"
    open(path, "w").write("\n".join(lines) + "\n")
    print(path, sum(len(g[2]) for g in groups), "cases,", len(lines), "lines")

exec(open(sys.argv[1]).read())
