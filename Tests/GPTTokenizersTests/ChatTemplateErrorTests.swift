// ChatTemplateErrorTests: raise_exception, runtime and syntax errors with jinja2's messages.
// The expectations are jinja2's own output (see below), not this interpreter's.
// Hand-written error tests (columns, unsupported constructs, limits) are in ChatTemplateRobustnessTests.swift.

import XCTest
@testable import GPTTokenizers

// Every expected string and message below was produced by Python jinja2 3.1.6 in the environment
// transformers 5.24.0 builds for chat templates (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols, its tojson/raise_exception/namespace), rendering each template with
// messages=[], tools=None, documents=None, add_generation_prompt=False, bos_token='', eos_token=''
// plus the variables shown. To add a case, compute its expectation the same way.

final class ChatTemplateErrorTests: XCTestCase {
    /// raise_exception(msg) is ChatTemplateError.raised with the message.
    func testRaisedExceptions() throws {
        assertTemplateError("{{ raise_exception('custom ' ~ 1) }}", .raised(message: "custom 1"))
        assertTemplateError("{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system') }}{% endif %}ok", messages: [.object([("role", .string("system")), ("content", .string("x"))])], .raised(message: "no system"))
    }

    /// Type errors, undefined values in operations and sandbox refusals carry jinja2's message.
    func testRuntimeErrors() throws {
        assertTemplateRuntimeError("{{ foo.bar }}", "'foo' is undefined")
        assertTemplateRuntimeError("{{ foo + 1 }}", "'foo' is undefined")
        assertTemplateRuntimeError("{{ foo() }}", "'foo' is undefined")
        assertTemplateRuntimeError("{{ x.y.z }}", variables: ["x": .object([])], "'dict object' has no attribute 'y'")
        assertTemplateRuntimeError("{{ (x|first) + 1 }}", variables: ["x": .array([])], "No first item, sequence was empty.")
        assertTemplateRuntimeError("{{ x[5] + 1 }}", variables: ["x": .array([.integer(1)])], "list object has no element 5")
        assertTemplateRuntimeError("{{ 'x' + 1 }}", "can only concatenate str (not \"int\") to str")
        assertTemplateRuntimeError("{{ 1 + 'x' }}", "unsupported operand type(s) for +: 'int' and 'str'")
        assertTemplateRuntimeError("{{ none + 'x' }}", "unsupported operand type(s) for +: 'NoneType' and 'str'")
        assertTemplateRuntimeError("{{ [] + 'x' }}", "can only concatenate list (not \"str\") to list")
        assertTemplateRuntimeError("{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'")
        assertTemplateRuntimeError("{{ 1 in 'abc' }}", "'in <string>' requires string as left operand, not int")
        assertTemplateRuntimeError("{{ 'a' in none }}", "argument of type 'NoneType' is not iterable")
        assertTemplateRuntimeError("{{ 1/0 }}", "division by zero")
        assertTemplateRuntimeError("{{ 1 % 0 }}", "integer modulo by zero")
        assertTemplateRuntimeError("{{ 'a' * 1.5 }}", "can't multiply sequence by non-int of type 'float'")
        assertTemplateRuntimeError("{% for a, b in [1] %}{% endfor %}", "cannot unpack non-iterable int object")
        assertTemplateRuntimeError("{% for a in none %}{% endfor %}", "'NoneType' object is not iterable")
        assertTemplateRuntimeError("{% for a, b in [(1, 2, 3)] %}{% endfor %}", "too many values to unpack (expected 2)")
        assertTemplateRuntimeError("{{ [1].append(2) }}", "access to attribute 'append' of 'list' object is unsafe.")
        assertTemplateRuntimeError("{{ 'abc'.__class__() }}", "access to attribute '__class__' of 'str' object is unsafe.")
        assertTemplateRuntimeError("{{ 'abc'() }}", "'str' object is not callable")
        assertTemplateRuntimeError("{{ y|tojson }}", "Object of type Undefined is not JSON serializable")
        assertTemplateRuntimeError("{{ 1|length }}", "object of type 'int' has no len()")
        assertTemplateRuntimeError("{{ x[:n] }}", variables: ["x": .string("abc")], "slice indices must be integers or None or have an __index__ method")
        assertTemplateRuntimeError("{{ 5|first }}", "'int' object is not iterable")
        assertTemplateRuntimeError("{% set ns = namespace() %}{% set ns._x = 1 %}", "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '_x'. Please rename the attribute.")
        assertTemplateRuntimeError("{% set x = 1 %}{% set x.y = 2 %}", "cannot assign attribute on non-namespace object")
        assertTemplateRuntimeError("{{ range(100001)|length }}", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
        assertTemplateRuntimeError("{{ x|items|list }}", variables: ["x": .array([.integer(1)])], "Can only get item pairs from a mapping.")
        assertTemplateRuntimeError("{{ [1, 'a']|sort }}", "'<' not supported between instances of 'str' and 'int'")
    }

    /// Syntax errors carry jinja2's message and line.
    func testSyntaxErrors() throws {
        assertTemplateSyntaxError("{% if %}", line: 1, "Expected an expression, got 'end of statement block'")
        assertTemplateSyntaxError("line1\n{{ 1 + }}", line: 2, "unexpected 'end of print statement'")
        assertTemplateSyntaxError("{% for x in y %}", line: 1, "Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.")
        assertTemplateSyntaxError("{{ 'abc' }", line: 1, "unexpected '}'")
        assertTemplateSyntaxError("{% for x in [1] %}{% endif %}", line: 1, "Encountered unknown tag 'endif'. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.")
        assertTemplateSyntaxError("{% set 1 = 2 %}", line: 1, "can't assign to 'const'")
        assertTemplateSyntaxError("{{ x y }}", line: 1, "expected token 'end of print statement', got 'y'")
        assertTemplateSyntaxError("{% for x.y in z %}{% endfor %}", line: 1, "expected token 'in', got '.'")
        assertTemplateSyntaxError("{% if x %}{% else %}{% else %}{% endif %}", line: 1, "Encountered unknown tag 'else'. Jinja was looking for the following tags: 'endif'. The innermost block that needs to be closed is 'if'.")
        assertTemplateSyntaxError("{{ (1 }}", line: 1, "unexpected '}', expected ')'")
        assertTemplateSyntaxError("{{ [1, }}", line: 1, "unexpected '}', expected ']'")
        assertTemplateSyntaxError("{{", line: 1, "unexpected 'end of template'")
        assertTemplateSyntaxError("{{ x is }}", line: 1, "expected token 'name', got 'end of print statement'")
        assertTemplateSyntaxError("{{ f(a=1, 2) }}", line: 1, "invalid syntax for function call expression")
        assertTemplateSyntaxError("{% endfor %}", line: 1, "Encountered unknown tag 'endfor'.")
        assertTemplateSyntaxError("{{ x }", line: 1, "unexpected '}'")
        assertTemplateSyntaxError("{{ ! }}", line: 1, "unexpected char '!' at 3")
        assertTemplateSyntaxError("{# unclosed comment", line: 1, "Missing end of comment tag")
        assertTemplateSyntaxError("{% raw %}unclosed", line: 1, "Missing end of raw directive")
        assertTemplateSyntaxError("{{ '\\x4' }}", line: 1, "truncated \\xXX escape")
        assertTemplateSyntaxError("{{ 'unterminated }}", line: 1, "unexpected char \"'\" at 3")
        assertTemplateSyntaxError("{% set x %}", line: 1, "Unexpected end of template. Jinja was looking for the following tags: 'endset'. The innermost block that needs to be closed is 'set'.")
        assertTemplateSyntaxError("{{ x is defined is defined }}", line: 1, "You cannot chain multiple tests with is")
    }
}
