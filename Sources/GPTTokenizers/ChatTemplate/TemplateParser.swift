// TemplateParser: statements, from tokens to the AST, following jinja2's parser (and its
// error messages: "Unexpected end of template. Jinja was looking for...", "expected token ...").
// Legend: subparse = template text and tags until one of the end tags; parseStatement dispatches
// on the tag name; tags jinja2 has but this interpreter does not (macro, call, block, extends,
// include, import, from, autoescape, recursive loops) are refused as `unsupported`.
// Expressions are in TemplateParser+Expressions.swift.

// MARK: - Parser state

struct TemplateParser {
    var tokens: [Token]
    var position = 0
    var depth = 0
    var loopDepth = 0
    var tagStack: [String] = []
    var endTokenStack: [[String]] = []

    init(tokens: [Token]) { self.tokens = tokens }

    var current: Token { tokens[min(position, tokens.count - 1)] }
    var next: Token { tokens[min(position + 1, tokens.count - 1)] }
    mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    func fail(_ message: String, at token: Token? = nil) -> ChatTemplateError {
        let token = token ?? current
        return .syntax(line: token.line, column: token.column, message: message)
    }

    func isName(_ name: String, _ token: Token? = nil) -> Bool { (token ?? current).kind == .name(name) }
    func isOp(_ symbol: String) -> Bool { current.kind == .op(symbol) }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    mutating func skipOp(_ symbol: String) -> Bool {
        guard isOp(symbol) else { return false }
        advance()
        return true
    }

    /// jinja2's `TokenStream.expect`, with `description` as its `describe_token_expr`.
    @discardableResult
    mutating func expect(_ kind: TokenKind, _ description: String) throws(ChatTemplateError) -> Token {
        let token = current
        guard token.kind == kind else {
            if token.kind == .eof { throw fail("unexpected end of template, expected '\(description)'.") }
            throw fail("expected token '\(description)', got '\(token.kind.description)'")
        }
        advance()
        return token
    }

    mutating func expectName() throws(ChatTemplateError) -> String {
        guard case .name(let name) = current.kind else { _ = try expect(.name(""), "name"); return "" }
        advance()
        return name
    }

    mutating func enter() throws(ChatTemplateError) {
        depth += 1
        if depth > Limits.nesting { throw fail("the template nests more than \(Limits.nesting) levels deep") }
    }

    // MARK: - Template body

    /// Parses the whole template.
    mutating func parseTemplate() throws(ChatTemplateError) -> [Stmt] {
        let body = try subparse(nil)
        if current.kind != .eof { throw fail("unexpected '\(current.kind.description)'") }
        return body
    }

    mutating func subparse(_ endTokens: [String]?) throws(ChatTemplateError) -> [Stmt] {
        try enter()
        defer { depth -= 1 }
        if let endTokens { endTokenStack.append(endTokens) }
        defer { if endTokens != nil { endTokenStack.removeLast() } }
        var body: [Stmt] = []
        while true {
            switch current.kind {
            case .data(let text):
                body.append(.data(text))
                advance()
            case .variableBegin:
                advance()
                body.append(.output(try parseTuple(withCondition: true)))
                try expect(.variableEnd, "end of print statement")
            case .blockBegin:
                advance()
                if let endTokens, case .name(let name) = current.kind, endTokens.contains(name) { return body }
                body.append(contentsOf: try parseStatement())
                try expect(.blockEnd, "end of statement block")
            case .eof:
                return body
            default:
                throw fail("unexpected '\(current.kind.description)'")
            }
        }
    }

    /// jinja2's `parse_statements`: `:`? `%}` body, stopping at (and optionally dropping) an end tag.
    mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws(ChatTemplateError) -> [Stmt] {
        _ = skipOp(":")
        try expect(.blockEnd, "end of statement block")
        let body = try subparse(endTokens)
        if current.kind == .eof { throw endOfTemplate(expecting: endTokens) }
        if dropNeedle { advance() }
        return body
    }

    // MARK: - Errors for unexpected tags

    func endOfTemplate(expecting endTokens: [String]?) -> ChatTemplateError {
        var stack = endTokenStack
        if let endTokens { stack.append(endTokens) }
        return unknownTag(nil, stack: stack, at: current)
    }

    func unknownTag(_ name: String?, stack: [[String]], at token: Token) -> ChatTemplateError {
        var message = [name.map { "Encountered unknown tag \(pyRepr(string: $0))." } ?? "Unexpected end of template."]
        if let looking = stack.last {
            let currently = looking.map { pyRepr(string: $0) }.joined(separator: " or ")
            if let name, stack.joined().contains(name) {
                message.append("You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for \(currently).")
            } else {
                message.append("Jinja was looking for the following tags: \(currently).")
            }
        }
        if let innermost = tagStack.last { message.append("The innermost block that needs to be closed is \(pyRepr(string: innermost)).") }
        return fail(message.joined(separator: " "), at: token)
    }

    // MARK: - Statements

    mutating func parseStatement() throws(ChatTemplateError) -> [Stmt] {
        let token = current
        guard case .name(let name) = token.kind else { throw fail("tag name expected") }
        switch name {
        case "for", "if", "set", "with", "filter", "print", "generation": break
        case "break", "continue":
            advance()
            guard loopDepth > 0 else { throw fail("'\(name)' outside loop", at: token) }
            return [name == "break" ? .breakLoop : .continueLoop]
        case "macro", "call", "block", "extends", "include", "import", "from", "autoescape", "do", "trans",
            "pluralize", "debug":
            throw .unsupported(construct: "statement '\(name)'", line: token.line)
        default:
            if name.hasPrefix("end") || ["else", "elif", "raw", "recursive"].contains(name) {
                throw unknownTag(name, stack: endTokenStack, at: token)
            }
            throw .unsupported(construct: "statement '\(name)'", line: token.line)
        }
        tagStack.append(name)
        defer { tagStack.removeLast() }
        advance()
        switch name {
        case "for": return [try parseFor(line: token.line)]
        case "if": return [try parseIf()]
        case "set": return [try parseSet(line: token.line)]
        case "with": return [try parseWith(line: token.line)]
        case "filter":
            let filters = try parseFilterChain(inline: true)
            return [.filterBlock(filters: filters, body: try parseStatements(["endfilter"], dropNeedle: true), line: token.line)]
        case "print":
            var outputs: [Stmt] = []
            while current.kind != .blockEnd {
                if !outputs.isEmpty { try expect(.op(","), ",") }
                outputs.append(.output(try parseExpression()))
            }
            return outputs
        default:
            return [.generation(try parseStatements(["endgeneration"], dropNeedle: true))]
        }
    }

    mutating func parseFor(line: Int) throws(ChatTemplateError) -> Stmt {
        let target = try parseAssignTarget(extraEnd: ["in"])
        try expect(.name("in"), "in")
        let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive"])
        var condition: Expr?
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw .unsupported(construct: "recursive for loops", line: current.line) }
        loopDepth += 1
        let body = try parseStatements(["endfor", "else"])
        loopDepth -= 1
        var elseBody: [Stmt] = []
        let isElse = isName("else")
        advance()
        if isElse { elseBody = try parseStatements(["endfor"], dropNeedle: true) }
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody,
            line: line))
    }

    mutating func parseIf() throws(ChatTemplateError) -> Stmt {
        var branches: [(test: Expr, body: [Stmt])] = []
        var otherwise: [Stmt] = []
        while true {
            let test = try parseTuple(withCondition: false)
            branches.append((test, try parseStatements(["elif", "else", "endif"])))
            let token = current
            advance()
            if isName("elif", token) { continue }
            if isName("else", token) { otherwise = try parseStatements(["endif"], dropNeedle: true) }
            break
        }
        return .conditional(branches: branches, otherwise: otherwise)
    }

    mutating func parseSet(line: Int) throws(ChatTemplateError) -> Stmt {
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp("=") { return .assign(target, try parseTuple(), line: line) }
        let filters = try parseFilterChain(inline: false)
        return .assignBlock(target, filters: filters, body: try parseStatements(["endset"], dropNeedle: true), line: line)
    }

    mutating func parseWith(line: Int) throws(ChatTemplateError) -> Stmt {
        var assignments: [(target: Target, value: Expr)] = []
        while current.kind != .blockEnd {
            if !assignments.isEmpty { try expect(.op(","), ",") }
            let target = try parseAssignTarget()
            try expect(.op("="), "=")
            assignments.append((target, try parseExpression()))
        }
        return .with(assignments: assignments, body: try parseStatements(["endwith"], dropNeedle: true), line: line)
    }

    /// jinja2's `parse_assign_target`: a name, `ns.attr` (for `set`), or a tuple of names.
    mutating func parseAssignTarget(extraEnd: [String] = [], withNamespace: Bool = false) throws(ChatTemplateError)
        -> Target
    {
        let start = current
        let expression = try parseTuple(simplified: true, extraEnd: extraEnd, withNamespace: withNamespace)
        func target(_ expression: Expr) throws(ChatTemplateError) -> Target {
            switch expression.kind {
            case .name(let name): return .name(name)
            case .attribute(let base, let attribute):
                if case .name(let name) = base.kind { return .namespaceAttribute(name, attribute) }
            case .tuple(let items):
                var targets: [Target] = []
                for item in items { targets.append(try target(item)) }
                return .tuple(targets)
            default: break
            }
            let kind: String
            switch expression.kind {
            case .constant: kind = "const"
            case .list: kind = "list"
            case .dict: kind = "dict"
            default: kind = "expression"
            }
            throw fail("can't assign to '\(kind)'", at: start)
        }
        return try target(expression)
    }
}
