// TemplateParser+Postfix: what may follow a primary expression: `.attr`, `.0`, `[index]`,
// `[start:stop:step]`, `(call arguments)`, `| filter(args)` chains and `is [not] test args`.
// Legend: filter and test names are checked against the implemented ones here, so an unknown
// one is refused (as `unsupported`) when the template is parsed, as jinja2 refuses it at compile time.

extension TemplateParser {
    // MARK: - Postfix, filters, tests

    mutating func parsePostfix(_ start: Expr) throws(ChatTemplateError) -> Expr {
        var node = start
        while true {
            let line = current.line
            if skipOp(".") {
                let token = current
                advance()
                switch token.kind {
                case .name(let name): node = try checked(Expr(kind: .attribute(node, name), line: line))
                case .integer(let number):
                    node = try checked(Expr(kind: .item(node, Expr(kind: .constant(.int(number)), line: line)), line: line))
                default: throw fail("expected name or number", at: token)
                }
            } else if skipOp("[") {
                var indexList: [Expr] = []
                while !isOp("]") {
                    if !indexList.isEmpty { try expect(.op(","), ",") }
                    indexList.append(try parseSubscript())
                }
                try expect(.op("]"), "]")
                let indexExpr = indexList.count == 1 ? indexList[0] : Expr(kind: .tuple(indexList), line: line)
                node = try checked(Expr(kind: .item(node, indexExpr), line: line))
            } else if isOp("(") {
                node = try checked(Expr(kind: .call(node, try parseCallArguments()), line: line))
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript() throws(ChatTemplateError) -> Expr {
        let line = current.line
        var parts: [Expr?] = []
        if skipOp(":") {
            parts.append(nil)
        } else {
            let node = try parseExpression()
            guard skipOp(":") else { return node }
            parts.append(node)
        }
        if isOp(":") || isOp("]") || isOp(",") { parts.append(nil) } else { parts.append(try parseExpression()) }
        if skipOp(":") {
            parts.append(isOp("]") || isOp(",") ? nil : try parseExpression())
        } else {
            parts.append(nil)
        }
        return Expr(kind: .slice(parts[0], parts[1], parts[2]), line: line)
    }

    mutating func parseCallArguments() throws(ChatTemplateError) -> Arguments {
        let open = try expect(.op("("), "(")
        var arguments = Arguments()
        while !isOp(")") {
            if !(arguments.positional.isEmpty && arguments.keywords.isEmpty) {
                try expect(.op(","), ",")
                if isOp(")") { break }
            }
            if isOp("*") || isOp("**") {
                throw .unsupported(construct: "*args and **kwargs in calls", line: current.line)
            }
            if case .name(let name) = current.kind, next.kind == .op("=") {
                advance()
                advance()
                arguments.keywords.append((name, try parseExpression()))
            } else {
                guard arguments.keywords.isEmpty else { throw fail("invalid syntax for function call expression", at: open) }
                arguments.positional.append(try parseExpression())
            }
        }
        try expect(.op(")"), ")")
        return arguments
    }

    mutating func parseFilterExpression(_ start: Expr) throws(ChatTemplateError) -> Expr {
        var node = start
        while true {
            if isOp("|") {
                for filter in try parseFilterChain(inline: false) {
                    node = try checked(Expr(kind: .filter(node, filter), line: filter.line))
                }
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                let line = current.line
                node = try checked(Expr(kind: .call(node, try parseCallArguments()), line: line))
            } else {
                return node
            }
        }
    }

    /// `| a(args) | b ...` (or, `inline`, starting at the first name without a pipe).
    mutating func parseFilterChain(inline: Bool) throws(ChatTemplateError) -> [FilterCall] {
        var filters: [FilterCall] = []
        var first = inline
        while first || isOp("|") {
            if !first { advance() }
            first = false
            let token = current
            let name = try dottedName()
            guard TemplateFilters.names.contains(name) else {
                throw .unsupported(construct: "filter '\(name)'", line: token.line)
            }
            let arguments = isOp("(") ? try parseCallArguments() : Arguments()
            filters.append(FilterCall(name: name, arguments: arguments, line: token.line))
        }
        return filters
    }

    mutating func dottedName() throws(ChatTemplateError) -> String {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        return name
    }

    mutating func parseTest(_ subject: Expr) throws(ChatTemplateError) -> Expr {
        let line = current.line
        advance()
        let negated = skipName("not")
        let nameToken = current
        let name = try dottedName()
        guard TemplateTests.names.contains(name) else {
            throw .unsupported(construct: "test '\(name)'", line: nameToken.line)
        }
        var arguments = Arguments()
        if isOp("(") {
            arguments = try parseCallArguments()
        } else {
            switch current.kind {
            case .name("else"), .name("or"), .name("and"): break
            case .name("is"): throw fail("You cannot chain multiple tests with is")
            case .name, .string, .integer, .float, .op("("), .op("["), .op("{"):
                arguments.positional = [try parsePostfix(try parsePrimary())]
            default: break
            }
        }
        let test = Expr(kind: .test(subject, FilterCall(name: name, arguments: arguments, line: line)), line: line)
        return try checked(negated ? Expr(kind: .not(test), line: line) : test)
    }
}
