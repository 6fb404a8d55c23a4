// TemplateAST: the parsed template, an immutable (and so Sendable) tree of statements and
// expressions, mirroring jinja2's nodes.
// Legend: Stmt = one statement or piece of text; Expr = an expression with the line it starts
// on (for runtime error messages); Target = the left side of `set`, `for` and `with`.

// MARK: - Expressions

/// A literal constant.
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

/// An expression node, its line, and the height of its tree (bounded by the parser, so that
/// evaluating or freeing it never recurses deeply).
struct Expr: Sendable {
    let kind: ExprKind
    let line: Int
    let height: Int

    init(kind: ExprKind, line: Int) {
        self.kind = kind
        self.line = line
        height = kind.children.reduce(0) { max($0, $1.height) } + 1
    }
}

/// Call arguments: positional then keyword, as written.
struct Arguments: Sendable {
    var positional: [Expr] = []
    var keywords: [(name: String, value: Expr)] = []
}

/// `| name(args)` or `is name(args)`.
struct FilterCall: Sendable {
    let name: String
    let arguments: Arguments
    let line: Int
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum CompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case contains = "in", notContains = "not in"
}

indirect enum ExprKind: Sendable {
    case constant(Constant)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(key: Expr, value: Expr)])
    /// `a.b`
    case attribute(Expr, String)
    /// `a[b]`
    case item(Expr, Expr)
    /// `start:stop:step` inside `[...]`.
    case slice(Expr?, Expr?, Expr?)
    case call(Expr, Arguments)
    case filter(Expr, FilterCall)
    /// `a is name(args)`; negation is a `.not` around it.
    case test(Expr, FilterCall)
    case not(Expr)
    case negate(Expr)
    case plus(Expr)
    case binary(BinaryOperator, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case compare(Expr, [(op: CompareOperator, operand: Expr)])
    /// `a ~ b ~ c`
    case concat([Expr])
    /// `then if test else otherwise` (no else: Undefined).
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
}

extension ExprKind {
    /// The direct sub-expressions.
    var children: [Expr] {
        switch self {
        case .constant, .name: return []
        case .list(let items), .tuple(let items), .concat(let items): return items
        case .dict(let entries): return entries.flatMap { [$0.key, $0.value] }
        case .attribute(let base, _), .not(let base), .negate(let base), .plus(let base): return [base]
        case .item(let base, let index): return [base, index]
        case .slice(let start, let stop, let step): return [start, stop, step].compactMap { $0 }
        case .call(let callee, let arguments): return [callee] + arguments.all
        case .filter(let subject, let call), .test(let subject, let call): return [subject] + call.arguments.all
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right): return [left, right]
        case .compare(let first, let operations): return [first] + operations.map(\.operand)
        case .conditional(let test, let then, let otherwise): return [test, then] + (otherwise.map { [$0] } ?? [])
        }
    }
}

extension Arguments {
    var all: [Expr] { positional + keywords.map(\.value) }
}

// MARK: - Statements

/// An assignment target.
indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    /// `ns.attr` in `{% set ns.attr = ... %}`.
    case namespaceAttribute(String, String)
}

/// A `{% for %}` loop.
struct ForLoop: Sendable {
    let target: Target
    let iterable: Expr
    let condition: Expr?
    let body: [Stmt]
    let elseBody: [Stmt]
    let line: Int
}

indirect enum Stmt: Sendable {
    /// Template text, output as is.
    case data(String)
    /// `{{ expr }}`
    case output(Expr)
    /// `{% if %}{% elif %}...{% else %}{% endif %}`
    case conditional(branches: [(test: Expr, body: [Stmt])], otherwise: [Stmt])
    case forLoop(ForLoop)
    /// `{% set target = expr %}`
    case assign(Target, Expr, line: Int)
    /// `{% set target | filters %}body{% endset %}`
    case assignBlock(Target, filters: [FilterCall], body: [Stmt], line: Int)
    /// `{% filter f %}body{% endfilter %}`
    case filterBlock(filters: [FilterCall], body: [Stmt], line: Int)
    /// `{% with a = 1 %}body{% endwith %}`
    case with(assignments: [(target: Target, value: Expr)], body: [Stmt], line: Int)
    /// `{% break %}` / `{% continue %}`
    case breakLoop
    case continueLoop
    /// transformers' `{% generation %}`: renders its body unchanged.
    case generation([Stmt])
}
