// ChatTemplateFilterTests: filters, tests, tojson and Python methods, each checked against jinja2's output.
// The expectations are jinja2's own output (see below), not this interpreter's.

import XCTest
@testable import GPTTokenizers

// Every expected string and message below was produced by Python jinja2 3.1.6 in the environment
// transformers 5.24.0 builds for chat templates (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols, its tojson/raise_exception/namespace), rendering each template with
// messages=[], tools=None, documents=None, add_generation_prompt=False, bos_token='', eos_token=''
// plus the variables shown. To add a case, compute its expectation the same way.

final class ChatTemplateFilterTests: XCTestCase {
    /// trim, replace, upper/lower/title/capitalize, indent, wordcount, center, escape, format, string.
    func testStringFilters() throws {
        try assertRenders("{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'a,b'|replace(',', ';') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'Hello World'|lower }}|{{ 'héllo'|upper }}", "a b|a|a;b|bba|hello world|HÉLLO")
        try assertRenders("{{ \"they're bill's\"|title }}|{{ 'hello world-foo(bar'|title }}|{{ 'hELLO'|capitalize }}|{{ 3|string }}{{ none|string }}{{ x|string }}", "They're Bill's|Hello World-Foo(Bar|Hello|3None")
        try assertRenders("{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, first=true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}", "a\n    b\n\n    c|  a\n  b|a\n> \n> b")
        try assertRenders("{{ 'hello big world'|wordcount }}{{ 'x'|center(5) }}|{{ '<a href=\"x\">'|e }}|{{ '%s-%d'|format('a', 3) }}|{{ '%(k)s'|format(k=1) }}", "3  x  |&lt;a href=&#34;x&#34;&gt;|a-3|1")
    }

    /// int, float, abs, round (Python's banker's rounding of the binary value).
    func testNumberFilters() throws {
        try assertRenders("{{ '42'|int }}{{ ' 42 '|int }}{{ '4.7'|int }}{{ 'abc'|int }}{{ 'abc'|int(7) }}{{ 3.99|int }}{{ none|int }}{{ 'ff'|int(base=16) }}{{ '0x1A'|int(0, 16) }}{{ '1_0'|int }}", "4242407302552610")
        try assertRenders("{{ '4.5'|float }}{{ 'x'|float }}{{ 3|float }}{{ '1e3'|float }}{{ 'inf'|float }}{{ ' 2 '|float }}", "4.50.03.01000.0inf2.0")
        try assertRenders("{{ -3|abs }}{{ -3.5|abs }}{{ 3.14159|round(2) }}{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ 1.5|round(0, 'floor') }}{{ 1.2|round(0, 'ceil') }}{{ 5|round }}{{ 1234|round(-2) }}", "33.53.142.04.02.671.02.051200")
    }

    /// length, first/last, list, join, default, reverse, sort, unique, dictsort, batch, sum/min/max.
    func testSequenceFilters() throws {
        try assertRenders("{{ [1,2,3]|length }}{{ 'héllo'|length }}{{ {'a':1}|count }}{{ x|length }}", "3510")
        try assertRenders("{{ [3,1,2]|first }}{{ [3,1,2]|last }}{{ 'abc'|first }}{{ {'k':1,'j':2}|first }}{{ []|first }}|{{ 'ab'|list }}{{ {'a':1}|list }}{{ (1,2)|list }}", "32ak|['a', 'b']['a'][1, 2]")
        try assertRenders("{{ ['a','b']|join }}|{{ [1,2]|join(', ') }}|{{ x|join('-', attribute='n') }}", variables: ["x": .array([.object([("n", .string("p"))]), .object([("n", .string("q"))])])], "ab|1, 2|p-q")
        try assertRenders("{{ x|default('d') }}|{{ none|default('d') }}|{{ ''|default('d') }}|{{ ''|default('d', true) }}|{{ 0|d(5, boolean=true) }}", "d|None||d|5")
        try assertRenders("{{ [1,2,3]|reverse|list }}{{ 'abc'|reverse }}{{ (1,2)|reverse|list }}{{ [1,2,3,4,5]|batch(2)|list }}{{ [1,2,3]|batch(2, 'x')|list }}", "[3, 2, 1]cba[2, 1][[1, 2], [3, 4], [5]][[1, 2], [3, 'x']]")
        try assertRenders("{{ [3,1,2]|sort }}{{ [3,1,2]|sort(reverse=true) }}{{ ['b','a','C']|sort }}{{ ['b','A','c']|sort(case_sensitive=true) }}{{ x|sort(attribute='n')|map(attribute='n')|list }}", variables: ["x": .array([.object([("n", .integer(2))]), .object([("n", .integer(1))])])], "[1, 2, 3][3, 2, 1]['a', 'b', 'C']['A', 'b', 'c'][1, 2]")
        try assertRenders("{{ [1,2,1,3]|unique|list }}{{ ['a','A','b']|unique|list }}{{ ['a','A']|unique(case_sensitive=true)|list }}", "[1, 2, 3]['a', 'b']['a', 'A']")
        try assertRenders("{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }}{{ {'b': 1, 'a': 2}|dictsort(by='value') }}{{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}", "[('a', 2), ('b', 1), ('C', 0)][('b', 1), ('a', 2)][('b', 1), ('a', 2)]")
        try assertRenders("{{ [1,2,3]|sum }}{{ [1,2,3]|min }}{{ [1,2,3]|max }}{{ x|sum(attribute='n') }}{{ ['b','A']|min }}{{ []|max }}", variables: ["x": .array([.object([("n", .integer(2))]), .object([("n", .integer(1))])])], "6133A")
    }

    /// select/reject/selectattr/rejectattr with tests, map by attribute or filter; lazy single-pass generators.
    func testSelectAndMap() throws {
        try assertRenders("{{ x|selectattr('role', 'equalto', 'user')|list|length }}{{ x|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }}", variables: ["x": .array([.object([("role", .string("user"))]), .object([("role", .string("assistant"))]), .object([("role", .string("user"))])])], "2['assistant']")
        try assertRenders("{{ x|selectattr('tool_calls', 'defined')|list }}{{ x|selectattr('a')|list }}", variables: ["x": .array([.object([("role", .string("user")), ("a", .integer(0))]), .object([("role", .string("assistant")), ("tool_calls", .array([])), ("a", .integer(1))])])], "[{'role': 'assistant', 'tool_calls': [], 'a': 1}][{'role': 'assistant', 'tool_calls': [], 'a': 1}]")
        try assertRenders("{{ [1,2,3]|select('odd')|list }}{{ [1,2,3]|reject('odd')|list }}{{ [0, 1, '', 'a']|select|list }}{{ [1,5,10]|select('gt', 3)|list }}{{ [1,2]|select('in', [2])|list }}", "[1, 3][2][1, 'a'][5, 10][2]")
        try assertRenders("{{ x|map(attribute='a.b')|list }}{{ x|map(attribute='z', default='D')|list }}{{ ['a','B']|map('upper')|list }}{{ [' a ']|map('trim')|join }}", variables: ["x": .array([.object([("a", .object([("b", .integer(1))]))]), .object([("a", .object([("b", .integer(2))]))])])], "[1, 2]['D', 'D']['A', 'B']a")
        try assertRenders("{% set g = [1,2,3]|select('odd') %}{{ g|list }}{{ g|list }}{% if [1]|select('even') %} truthy{% endif %}", "[1, 3][] truthy")
        try assertRenders("{{ messages|selectattr('role', 'in', ['user', 'system'])|map(attribute='content')|join(' / ') }}", messages: [.object([("role", .string("system")), ("content", .string("s"))]), .object([("role", .string("user")), ("content", .string("u"))]), .object([("role", .string("assistant")), ("content", .string("a"))])], "s / u")
    }

    /// transformers' tojson: json.dumps spacing (', ' and ': ', or ',' with indent), key order, escapes.
    func testToJSON() throws {
        try assertRenders("{{ x|tojson }}", variables: ["x": .object([("name", .string("f")), ("args", .object([("a", .integer(1)), ("b", .array([.bool(true), .none, .double(1.5), .string("é\u{2028}")]))])), ("empty", .object([])), ("l", .array([]))])], "{\"name\": \"f\", \"args\": {\"a\": 1, \"b\": [true, null, 1.5, \"é\u{2028}\"]}, \"empty\": {}, \"l\": []}")
        try assertRenders("{{ x|tojson(indent=2) }}", variables: ["x": .object([("name", .string("f")), ("args", .object([("a", .integer(1)), ("b", .array([.bool(true), .none]))])), ("empty", .object([])), ("l", .array([]))])], "{\n  \"name\": \"f\",\n  \"args\": {\n    \"a\": 1,\n    \"b\": [\n      true,\n      null\n    ]\n  },\n  \"empty\": {},\n  \"l\": []\n}")
        try assertRenders("{{ x|tojson(indent=4, sort_keys=true) }}", variables: ["x": .object([("b", .integer(1)), ("a", .object([("d", .integer(2)), ("c", .integer(3))]))])], "{\n    \"a\": {\n        \"c\": 3,\n        \"d\": 2\n    },\n    \"b\": 1\n}")
        try assertRenders("{{ x|tojson(separators=(',', ':')) }}{{ x|tojson(ensure_ascii=true) }}", variables: ["x": .object([("b", .string("é😀\u{1}")), ("a", .array([.integer(1), .integer(2)]))])], "{\"b\":\"é😀\\u0001\",\"a\":[1,2]}{\"b\": \"\\u00e9\\ud83d\\ude00\\u0001\", \"a\": [1, 2]}")
        try assertRenders("{{ 'a\"b<>&'|tojson }}{{ 1.0|tojson }}{{ none|tojson }}{{ (1,2)|tojson }}{{ {1: 'a', true: 'b', none: 'c', 1.5: 'd'}|tojson }}", "\"a\\\"b<>&\"1.0null[1, 2]{\"1\": \"b\", \"null\": \"c\", \"1.5\": \"d\"}")
    }

    /// `is` tests, with Python's isinstance rules.
    func testTests() throws {
        try assertRenders("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ x is none }}{{ x is not defined }}{{ 1 is not odd }}", "FalseTrueTrueFalseTrueFalse")
        try assertRenders("{{ 1 is odd }}{{ 2 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 'a' is string }}{{ 1 is string }}{{ 1.5 is number }}{{ 'x' is number }}", "TrueTrueTrueFalseTrueFalseTrueFalse")
        try assertRenders("{{ [] is iterable }}{{ 1 is iterable }}{{ 'a' is iterable }}{{ {} is mapping }}{{ [] is mapping }}{{ [] is sequence }}{{ 1 is sequence }}{{ x is iterable }}", "TrueFalseTrueTrueFalseTrueFalseTrue")
        try assertRenders("{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}{{ true is boolean }}{{ 1 is boolean }}{{ false is false }}{{ 0 is false }}{{ true is number }}", "TrueFalseTrueTrueFalseTrueFalseTrue")
        try assertRenders("{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aB' is lower }}{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 2 is gt 1 }}{{ 2 is ge 3 }}{{ 1 is lt 2 }}{{ 1 is le 0 }}{{ 'a' is in 'abc' }}{{ 1 is sameas 1 }}", "TrueTrueFalseTrueTrueTrueFalseTrueFalseTrueTrue")
    }

    /// Python str, dict and list methods.
    func testStringMethods() throws {
        try assertRenders("{{ ' x '.strip() }}|{{ 'xyx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'a\\nb\\r\\nc'.splitlines() }}", "x|y|x|x|['a', 'b', 'c']|['a', 'b', '', 'c']|['a', 'b,c']|['a,b', 'c']|['a', 'b', 'c']")
        try assertRenders("{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('c', 'x')) }}{{ 'Hello'.upper() }}{{ 'Hello'.lower() }}{{ 'hello world'.title() }}{{ 'hELLO'.capitalize() }}{{ 'aXb'.replace('X', '-') }}{{ ', '.join(['a', 'b']) }}{{ 'abcb'.find('b') }}{{ 'abcb'.rfind('b') }}{{ 'abcb'.count('b') }}", "TrueTrueHELLOhelloHello WorldHelloa-ba, b132")
        try assertRenders("{{ '{} and {}'.format(1, 'b') }}|{{ '{0}{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='x') }}|{{ '{:>5}|{:<4}|{:^5}|{:.2f}|{:05d}'.format('a', 'b', 'c', 3.14159, 42) }}", "1 and b|aba|x!|    a|b   |  c  |3.14|00042")
        try assertRenders("{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.keys()|list }}{{ d.values()|list }}{{ d.items()|list }}{{ l.count(1) }}{{ l.index(2) }}", variables: ["d": .object([("a", .integer(1)), ("b", .integer(2))]), "l": .array([.integer(1), .integer(2), .integer(1)])], "1dflt['a', 'b'][1, 2][('a', 1), ('b', 2)]21")
        try assertRenders("{{ range(3)|list }}{{ range(1, 4)|list }}{{ range(10, 0, -3)|list }}{{ dict(a=1)|tojson }}{{ dict.fromkeys(['a', 'b'], 0) }}", "[0, 1, 2][1, 2, 3][10, 7, 4, 1]{\"a\": 1}{'a': 0, 'b': 0}")
    }
}
