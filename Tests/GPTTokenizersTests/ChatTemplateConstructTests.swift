// ChatTemplateConstructTests: whitespace control, trim/lstrip rules, loops, scoping, namespaces,
// expressions, attribute lookup, slicing and Python printing, each checked against jinja2's output.
// The expectations are jinja2's own output (see below), not this interpreter's.

import XCTest
@testable import GPTTokenizers

// Every expected string and message below was produced by Python jinja2 3.1.6 in the environment
// transformers 5.24.0 builds for chat templates (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols, its tojson/raise_exception/namespace), rendering each template with
// messages=[], tools=None, documents=None, add_generation_prompt=False, bos_token='', eos_token=''
// plus the variables shown. To add a case, compute its expectation the same way.

final class ChatTemplateConstructTests: XCTestCase {
    /// `-` on either side of a tag strips all whitespace, newlines included.
    func testWhitespaceControl() throws {
        try assertRenders("a  {{- 'b' -}}  \n c", "abc")
        try assertRenders("  {{- 'a' }}  \n  {{ 'b' -}}  \n  c", "a  \n  bc")
        try assertRenders("{% if true -%}\n\n  x  \n\n{%- endif %}", "x")
        try assertRenders("x {#- c #} y {# c -#} z", "x y z")
        try assertRenders("{%- for m in messages %}\n  {{- m.role }}\n{% endfor %}", messages: [.object([("role", .string("user")), ("content", .string("c"))]), .object([("role", .string("assistant")), ("content", .string("d"))])], "user\nassistant\n")
        try assertRenders("{%- if true %} a {% endif -%}  \n  b", " a b")
    }

    /// trim_blocks drops one newline after `%}` / `#}`; lstrip_blocks strips indentation before `{%` / `{#` (not `{{`); `+` turns both off.
    func testTrimAndLstripBlocks() throws {
        try assertRenders("  {% if true %}\n  x\n  {% endif %}\n  {{ 1 }}\n", "  x\n  1")
        try assertRenders("{% for x in [1,2] %}\n  {{ x }}\n{% endfor %}\n", "  1\n  2\n")
        try assertRenders("{% if true %}\n\nx{% endif %}\n\n", "\nx")
        try assertRenders("{% if true +%}\nx{% endif %}", "\nx")
        try assertRenders("a{%+ if true %}b{% endif %}", "ab")
        try assertRenders("\n  {%+ if true %}b{% endif %}", "\n  b")
        try assertRenders("\t {% if true %}y{% endif %}", "y")
        try assertRenders("x  {% if true %}y{% endif %}", "x  y")
        try assertRenders("{{ 1 }}  {% if true %}y{% endif %}", "1  y")
        try assertRenders("  {# comment #}\nx\n  {#- c2 -#}  \n y", "xy")
        try assertRenders("{#\nmulti\nline\n#}\nafter", "after")
        try assertRenders("{% set x = 1 %}\n{{ x }}\n{% set y = 2 %}\n\n{{ y }}", "1\n\n2")
    }

    /// Template newlines are normalised to \n, one trailing newline is dropped, `{% raw %}` is literal.
    func testNewlinesAndRaw() throws {
        try assertRenders("line\r\nnext\rthird\n", "line\nnext\nthird")
        try assertRenders("text\n\n", "text\n")
        try assertRenders("\n", "")
        try assertRenders("", "")
        try assertRenders("{% raw %}{{ x }}{% endraw %}", "{{ x }}")
        try assertRenders("{% raw %}\n{{ x }}{% endraw %}\nafter", "\n{{ x }}after")
        try assertRenders("  {% raw -%}  a {{ b }}  {%- endraw %}\nc", "a {{ b }}c")
    }

    /// Python escapes in string literals; adjacent literals concatenate.
    func testStringLiterals() throws {
        try assertRenders("{{ 'a\\tb' }}|{{ '\\u00e9\\x41\\101' }}|{{ \"q\\\"q\" }}|{{ '\\q' }}", "a\tb|éAA|q\"q|\\q")
        try assertRenders("{{ 'a' 'b' \"c\" }}", "abc")
        try assertRenders("{{ 'multi\nline' }}", "multi\nline")
    }

    /// loop.index/index0/revindex/revindex0/first/last/length/previtem/nextitem/cycle/changed.
    func testLoopVariables() throws {
        try assertRenders("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{% endfor %}", "1032TrueFalse32121FalseFalse33210FalseTrue3")
        try assertRenders("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", "-2|1-3|2-|")
        try assertRenders("{% for x in 'abc' %}{{ loop.cycle('o', 'e') }}{% endfor %}", "oeo")
        try assertRenders("{% for x in [1,1,2] %}{{ loop.changed(x) }}{% endfor %}", "TrueFalseTrue")
        try assertRenders("{% for x in [1,2] %}{% for y in [3,4] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", "121122")
        try assertRenders("{% for i in 'ab' %}{{ loop.depth }}{% endfor %}{{ loop }}", "11")
    }

    /// Loop filters, else, break/continue, unpacking, iteration over dicts and strings.
    func testForLoops() throws {
        try assertRenders("{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.last }}{% endfor %}", "2False4True")
        try assertRenders("{% for i in range(5) if i is odd %}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}", "1/2 2/2 ")
        try assertRenders("{% for x in [] %}{% else %}empty{% endfor %}{% for x in [1] %}one{% else %}no{% endfor %}", "emptyone")
        try assertRenders("{% for x in range(10) %}{% if x > 3 %}{% break %}{% endif %}{% if x is odd %}{% continue %}{% endif %}{{ x }}{% endfor %}", "02")
        try assertRenders("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")
        try assertRenders("{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}", variables: ["d": .object([("z", .integer(1)), ("a", .array([.integer(1), .integer(2)]))])], "z=1;a=[1, 2];")
        try assertRenders("{% for a, b in ['ab', 'cd'] %}{{ b }}{{ a }}{% endfor %}", "badc")
        try assertRenders("{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %}{% for c in 'hé' %}[{{ c }}]{% endfor %}", "xy[h][é]")
        try assertRenders("{% for a in x %}{{ a }}{% endfor %}|{{ x|list }}{{ x|length }}", "|[]0")
    }

    /// `set` inside a loop iteration does not leak out; `if` blocks do not scope; namespaces carry state.
    func testScoping() throws {
        try assertRenders("{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}", "12121")
        try assertRenders("{% for i in [1,2] %}{% if i == 2 %}{{ y }}{% endif %}{% set y = i %}{% endfor %}|{{ y }}", "|")
        try assertRenders("{% if true %}{% set z = 5 %}{% endif %}{{ z }}", "5")
        try assertRenders("{% set x = 5 %}{% for x in [1] %}{% endfor %}{{ x }}", "5")
        try assertRenders("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}", "3")
        try assertRenders("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (1, 2) %}{{ t }}", "12(1, 2)")
        try assertRenders("{% set x %}block {{ 1 }}{% endset %}[{{ x }}]{% set y | upper %}up{% endset %}{{ y }}", "[block 1]UP")
        try assertRenders("{% filter upper %}abc {{ 'd' }}{% endfilter %}{% generation %}gen {{ 1 }}{% endgeneration %}", "ABC Dgen 1")
        try assertRenders("{% set messages = messages[1:] %}{{ messages|length }}", messages: [.object([("role", .string("user")), ("content", .string("c"))]), .object([("role", .string("assistant")), ("content", .string("d"))])], "1")
    }

    /// namespace(...) objects and `{% set ns.attr = ... %}`.
    func testNamespaces() throws {
        try assertRenders("{% set ns = namespace(found=false, n=0) %}{% for m in [1,2,3] %}{% if m == 2 %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + m %}{% endfor %}{{ ns.found }} {{ ns.n }}", "True 6")
        try assertRenders("{% set ns = namespace(a=1) %}{{ ns }}|{{ ns['a'] }}|{{ ns.missing is defined }}", "<Namespace {'a': 1}>|1|False")
        try assertRenders("{% set ns = namespace(items=[]) %}{% for x in [1, 2] %}{% set ns.items = ns.items + [x] %}{% endfor %}{{ ns.items }}", "[1, 2]")
        try assertRenders("{{ namespace(a=1).a }}{% set ns = namespace({'b': 2}) %}{{ ns.b }}", "12")
    }

    /// Operators, precedence, chained comparisons, `in`, value-returning `and`/`or`, conditionals.
    func testExpressions() throws {
        try assertRenders("{{ 3 + 4 * 2 - 1 }} {{ (3 + 4) * 2 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 % 3 }} {{ 10.5 % 3 }} {{ -10 // 3 }} {{ -7 % 3 }}", "10 14 64 4 1 1.5 -4 2")
        try assertRenders("{{ 7 / 2 }} {{ 6 / 3 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ true + 1 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1.5e2 }}", "3.5 2.0 0.5 3.0 2 31 15 5 1000 150.0")
        assertTemplateRuntimeError("{{ 'a' * 3 }}{{ [1] * 2 }}{{ 3 * 'b' }}{{ 'a' ~ 1 + 2 }}{{ 2 * 3 ~ 4 }}{{ [1, 2] | join(',') ~ 'x' }}", "can only concatenate str (not \"int\") to str")
        try assertRenders("{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 1 == 1.0 }}{{ [1,2] < [1,3] }}{{ none == none }}{{ x == none }}{{ x == x }}", "TrueFalseTrueTrueTrueFalseTrue")
        try assertRenders("{{ 'b' in ['a','b'] }}{{ 'k' in {'k': 1} }}{{ 'x' not in 'abc' }}{{ 1 in [1.0] }}{{ 'a' in x }}", "TrueTrueTrueTrueFalse")
        try assertRenders("{{ 0 or 'x' }}{{ 1 and 'y' }}{{ [] or none }}{{ not [] }}{{ none and 1 }}{{ 'a' and 'b' }}", "xyNoneTrueNoneb")
        try assertRenders("{{ 'yes' if x else 'no' }}{{ 'a' if false else 'b' if true else 'c' }}|{{ 1 if false }}|{{ (1 if false) is defined }}", "nob||False")
        assertTemplateRuntimeError("{{ not x is defined }}{{ not x == 1 }}{{ -x|abs }}{{ x|default(1) + 1 }}", "'x' is undefined")
        try assertRenders("{{ '%s=%s' % ('a', 1) }} {{ '%.2f' % 3.14159 }} {{ '%5s|%-5s|' % ('a', 'b') }} {{ '%03d' % 7 }}", "a=1 3.14     a|b    | 007")
    }

    /// `a.b` tries the attribute then the key, `a['b']` the reverse; missing ones are Undefined.
    func testAttributesAndItems() throws {
        try assertRenders("{{ d.a }}{{ d['b'] }}{{ d.missing }}|{{ d.missing is defined }}{{ messages[-1]['content'] }}{{ messages[0].role }}", variables: ["d": .object([("a", .integer(1)), ("b", .integer(2))])], messages: [.object([("role", .string("user")), ("content", .string("c"))]), .object([("role", .string("assistant")), ("content", .string("d"))])], "12|Falseduser")
        try assertRenders("{{ x.0 }}{{ x.1 }}{{ x[5] }}|{{ x['a'] }}", variables: ["x": .array([.string("a"), .string("b")])], "ab|")
        try assertRenders("{{ x.__class__ }}|{{ d._p }}|{{ d.__p }}|{{ l.append }}", variables: ["d": .object([("_p", .integer(1)), ("__p", .integer(2))]), "l": .array([])], "|1|2|")
        try assertRenders("{{ 'abc'.foo }}|{{ y.z is defined }}", variables: ["y": .object([("a", .integer(1))])], "|False")
    }

    /// Python slices and negative indices on lists, tuples and strings (by code point).
    func testSlicing() throws {
        try assertRenders("{{ [1,2,3,4,5][1:3] }}{{ [1,2,3,4,5][:-2] }}{{ [1,2,3,4,5][::2] }}{{ 'hello'[::-1] }}{{ 'hello'[-3:] }}{{ (1,2,3)[1:] }}", "[2, 3][1, 2, 3][1, 3, 5]ollehllo(2, 3)")
        try assertRenders("{{ [1,2,3][::-1] }}{{ 'abc'[1:] }}{{ [1,2,3][-1] }}{{ 'abc'[-5:10] }}{{ [1,2,3][1::2] }}", "[3, 2, 1]bc3abc[2]")
        try assertRenders("{{ 'é'|length }}{{ 'é'[0] }}|{{ '😀'|length }}{{ 'a😀b'[1] }}{{ 'a😀b'[::-1] }}", "2e|1😀b😀a")
    }

    /// Values print as Python's str(): None, True, float repr, list/dict/tuple repr with Python quoting.
    func testPythonPrinting() throws {
        try assertRenders("{{ 'a' ~ none ~ true ~ 1.0 ~ [1,'b'] ~ {'k': 'v'} ~ (1,) ~ 1e-5 ~ 1e16 ~ 1e15 }}", "aNoneTrue1.0[1, 'b']{'k': 'v'}(1,)1e-051e+161000000000000000.0")
        try assertRenders("{{ 0.1 + 0.2 }} {{ 1e100 }} {{ 1.5e-7 }} {{ 100.0 }} {{ 12345678901234567.0 }} {{ -0.0 }} {{ 2**0.5 }} {{ 1/3 }} {{ 5e-324 }}", "0.30000000000000004 1e+100 1.5e-07 100.0 1.2345678901234568e+16 -0.0 1.4142135623730951 0.3333333333333333 5e-324")
        try assertRenders("{{ \"it's\" }} {{ [\"it's\", 'a\"b', 'x\\ny', '\\t\\x01', 'é\\u200b'] }}", "it's [\"it's\", 'a\"b', 'x\\ny', '\\t\\x01', 'é\\u200b']")
        try assertRenders("{{ [1, 'a', none, true, 1.5, [2], {'k': (1,)}] }} {{ {'a': 1, 'b': none} }} {{ () }} {{ (1, 'b') }}", "[1, 'a', None, True, 1.5, [2], {'k': (1,)}] {'a': 1, 'b': None} () (1, 'b')")
        try assertRenders("{{ {'a':1}.get('a') }}{{ {'a':1}.get('b') }}{{ {'a':1}.get('b', 2) }}", "1None2")
    }
}
