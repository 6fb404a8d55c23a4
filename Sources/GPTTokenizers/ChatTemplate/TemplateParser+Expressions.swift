// TemplateParser+Expressions: jinja2's expression grammar, lowest precedence first:
// conditional (`a if c else b`), or, and, not, comparisons (chained; in, not in), + -, ~, * / // %,
// **, unary - +, then primaries with postfix `.attr`, `[item]`, `(call)`, `| filter` and `is test`.
// Legend: postfix operations, filters and tests are in TemplateParser+Postfix.swift;
// every node built in a loop is height-checked, so long operator chains cannot nest too deep.

// MARK: - Expressions

extension TemplateParser {
    /// Fails when `expression` is taller than the nesting limit (long operator chains included).
    func checked(_ expression: Expr) throws(ChatTemplateError) -> Expr {
        if expression.height > Limits.nesting {
            throw fail("the expression nests more than \(Limits.nesting) levels deep")
        }
        return expression
    }

    mutating func parseExpression(withCondition: Bool = true) throws(ChatTemplateError) -> Expr {
        try enter()
        defer { depth -= 1 }
        return withCondition ? try parseConditional() : try parseOr()
    }

    mutating func parseConditional() throws(ChatTemplateError) -> Expr {
        var line = current.line
        var expression = try parseOr()
        while skipName("if") {
            let test = try parseOr()
            let otherwise = skipName("else") ? try parseConditional() : nil
            expression = try checked(Expr(kind: .conditional(test: test, then: expression, otherwise: otherwise), line: line))
            line = current.line
        }
        return expression
    }

    mutating func parseOr() throws(ChatTemplateError) -> Expr {
        var left = try parseAnd()
        while case let line = current.line, skipName("or") {
            left = try checked(Expr(kind: .or(left, try parseAnd()), line: line))
        }
        return left
    }

    mutating func parseAnd() throws(ChatTemplateError) -> Expr {
        var left = try parseNot()
        while case let line = current.line, skipName("and") {
            left = try checked(Expr(kind: .and(left, try parseNot()), line: line))
        }
        return left
    }

    mutating func parseNot() throws(ChatTemplateError) -> Expr {
        if isName("not") {
            let line = current.line
            advance()
            try enter()
            defer { depth -= 1 }
            return Expr(kind: .not(try parseNot()), line: line)
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws(ChatTemplateError) -> Expr {
        let line = current.line
        let first = try parseMath1()
        var operations: [(op: CompareOperator, operand: Expr)] = []
        while true {
            if case .op(let symbol) = current.kind, let op = CompareOperator(rawValue: symbol), op != .contains {
                advance()
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append((.contains, try parseMath1()))
            } else if isName("not"), isName("in", next) {
                advance()
                advance()
                operations.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : try checked(Expr(kind: .compare(first, operations), line: line))
    }

    mutating func parseMath1() throws(ChatTemplateError) -> Expr {
        var left = try parseConcat()
        while case .op(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            let line = current.line
            advance()
            left = try checked(Expr(kind: .binary(symbol == "+" ? .add : .subtract, left, try parseConcat()), line: line))
        }
        return left
    }

    mutating func parseConcat() throws(ChatTemplateError) -> Expr {
        let line = current.line
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : try checked(Expr(kind: .concat(items), line: line))
    }

    mutating func parseMath2() throws(ChatTemplateError) -> Expr {
        var left = try parsePower()
        while case .op(let symbol) = current.kind, let op = BinaryOperator(rawValue: symbol),
            [.multiply, .divide, .floorDivide, .modulo].contains(op)
        {
            let line = current.line
            advance()
            left = try checked(Expr(kind: .binary(op, left, try parsePower()), line: line))
        }
        return left
    }

    mutating func parsePower() throws(ChatTemplateError) -> Expr {
        var left = try parseUnary()
        while case let line = current.line, skipOp("**") {
            left = try checked(Expr(kind: .binary(.power, left, try parseUnary()), line: line))
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws(ChatTemplateError) -> Expr {
        try enter()
        defer { depth -= 1 }
        let line = current.line
        var node: Expr
        if skipOp("-") {
            node = try checked(Expr(kind: .negate(try parseUnary(withFilter: false)), line: line))
        } else if skipOp("+") {
            node = try checked(Expr(kind: .plus(try parseUnary(withFilter: false)), line: line))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        return withFilter ? try parseFilterExpression(node) : node
    }

    // MARK: - Primaries

    mutating func parsePrimary(withNamespace: Bool = false) throws(ChatTemplateError) -> Expr {
        let token = current
        switch token.kind {
        case .name(let name):
            advance()
            switch name {
            case "true", "True": return Expr(kind: .constant(.bool(true)), line: token.line)
            case "false", "False": return Expr(kind: .constant(.bool(false)), line: token.line)
            case "none", "None": return Expr(kind: .constant(.none), line: token.line)
            default:
                let base = Expr(kind: .name(name), line: token.line)
                if withNamespace, skipOp(".") {
                    return Expr(kind: .attribute(base, try expectName()), line: token.line)
                }
                return base
            }
        case .string(var text):
            advance()
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return Expr(kind: .constant(.string(text)), line: token.line)
        case .integer(let number):
            advance()
            return Expr(kind: .constant(.int(number)), line: token.line)
        case .float(let number):
            advance()
            return Expr(kind: .constant(.double(number)), line: token.line)
        case .op("("):
            advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expect(.op(")"), ")")
            return inner
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expect(.op(","), ",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expect(.op("]"), "]")
            return Expr(kind: .list(items), line: token.line)
        case .op("{"):
            advance()
            var entries: [(key: Expr, value: Expr)] = []
            while !isOp("}") {
                if !entries.isEmpty { try expect(.op(","), ",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expect(.op(":"), ":")
                entries.append((key, try parseExpression()))
            }
            try expect(.op("}"), "}")
            return Expr(kind: .dict(entries), line: token.line)
        default:
            throw fail("unexpected '\(token.kind.description)'")
        }
    }

    /// jinja2's `parse_tuple`: one expression, or a tuple when commas separate several.
    mutating func parseTuple(simplified: Bool = false, withCondition: Bool = true, extraEnd: [String] = [],
        explicitParentheses: Bool = false, withNamespace: Bool = false) throws(ChatTemplateError) -> Expr
    {
        let line = current.line
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(.op(","), ",") }
            if isTupleEnd(extraEnd) { break }
            items.append(simplified ? try parsePrimary(withNamespace: withNamespace) : try parseExpression(withCondition: withCondition))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParentheses { throw fail("Expected an expression, got '\(current.kind.description)'") }
        }
        return Expr(kind: .tuple(items), line: line)
    }

    /// jinja2's `is_tuple_end`. Its `extra_end_rules` never match there (it passes the tuple of
    /// rules as one argument to `test_any`), so `extraEnd` is ignored here too, for the same errors.
    func isTupleEnd(_ extraEnd: [String]) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .op(")"): return true
        default: return false
        }
    }
}
