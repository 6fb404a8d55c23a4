// TemplateOperators: Python's arithmetic, comparison and membership operators on Values.
// Legend: bool counts as int; int arithmetic that would overflow Swift's Int is an error (Python
// has big integers); `/` is true division, `//` and `%` floor; `str + str`, `list + list`,
// `str * int` concatenate and repeat (bounded in size); any operand Undefined raises its
// UndefinedError; other mixes raise Python's TypeError wording.

import Foundation

// MARK: - Binary operators

extension TemplateRenderer {
    func binary(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) throws -> Value {
        if case .undefined(let undefined) = lhs { throw TemplateFailure.type(undefined.message) }
        if case .undefined(let undefined) = rhs { throw TemplateFailure.type(undefined.message) }
        if let a = PyNumber(lhs), let b = PyNumber(rhs) { return try arithmetic(op, a, b) }
        switch (op, lhs, rhs) {
        case (.add, .string(let a), .string(let b)):
            try checkSize(a.utf8.count + b.utf8.count)
            return .string(a + b)
        case (.add, .list(let a), .list(let b)):
            try checkCount(a.count + b.count)
            return .list(a + b)
        case (.add, .tuple(let a), .tuple(let b)):
            try checkCount(a.count + b.count)
            return .tuple(a + b)
        case (.multiply, .string(let text), _), (.multiply, _, .string(let text)):
            guard let times = repeatCount(lhs, rhs) else { break }
            try checkSize(times.multipliedReportingOverflow(by: text.utf8.count))
            return .string(String(repeating: text, count: times))
        case (.multiply, .list(let items), _), (.multiply, _, .list(let items)):
            guard let times = repeatCount(lhs, rhs) else { break }
            try checkCount(times.multipliedReportingOverflow(by: items.count))
            return .list(Array([[Value]](repeating: items, count: times).joined()))
        case (.multiply, .tuple(let items), _), (.multiply, _, .tuple(let items)):
            guard let times = repeatCount(lhs, rhs) else { break }
            try checkCount(times.multipliedReportingOverflow(by: items.count))
            return .tuple(Array([[Value]](repeating: items, count: times).joined()))
        case (.modulo, .string(let format), _):
            return .string(try percentFormat(format, rhs))
        default: break
        }
        if op == .add, case .string = lhs {
            throw TemplateFailure.type("can only concatenate str (not \"\(pyTypeName(rhs))\") to str")
        }
        if op == .add, case .list = lhs {
            throw TemplateFailure.type("can only concatenate list (not \"\(pyTypeName(rhs))\") to list")
        }
        if op == .add, case .tuple = lhs {
            throw TemplateFailure.type("can only concatenate tuple (not \"\(pyTypeName(rhs))\") to tuple")
        }
        if op == .multiply {
            func isSequence(_ value: Value) -> Bool {
                switch value {
                case .string, .list, .tuple: return true
                default: return false
                }
            }
            if isSequence(lhs) || isSequence(rhs) {
                let other = isSequence(lhs) ? rhs : lhs
                throw TemplateFailure.type("can't multiply sequence by non-int of type '\(pyTypeName(other))'")
            }
        }
        let symbol = op == .power ? "** or pow()" : op.rawValue
        throw TemplateFailure.type(
            "unsupported operand type(s) for \(symbol): '\(pyTypeName(lhs))' and '\(pyTypeName(rhs))'")
    }

    /// The repeat count of `sequence * n` (negative counts give an empty result), or nil when the
    /// other operand is not an int.
    private func repeatCount(_ lhs: Value, _ rhs: Value) -> Int? {
        for side in [lhs, rhs] {
            switch side {
            case .int(let number): return max(0, number)
            case .bool(let flag): return flag ? 1 : 0
            default: continue
            }
        }
        return nil
    }

    private func checkSize(_ bytes: Int) throws {
        if bytes > Limits.stringBytes { throw TemplateFailure.type("a string would exceed \(Limits.stringBytes) bytes") }
    }

    private func checkSize(_ product: (partialValue: Int, overflow: Bool)) throws {
        try checkSize(product.overflow ? Int.max : product.partialValue)
    }

    func checkCount(_ count: Int) throws {
        if count > Limits.collectionCount { throw TemplateFailure.type("a list would exceed \(Limits.collectionCount) items") }
    }

    private func checkCount(_ product: (partialValue: Int, overflow: Bool)) throws {
        try checkCount(product.overflow ? Int.max : product.partialValue)
    }

    private func arithmetic(_ op: BinaryOperator, _ a: PyNumber, _ b: PyNumber) throws -> Value {
        if case .int(let x) = a, case .int(let y) = b {
            func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
                if result.overflow { throw TemplateFailure.type("integer overflow (values beyond 64 bits are not supported)") }
                return .int(result.partialValue)
            }
            switch op {
            case .add: return try checked(x.addingReportingOverflow(y))
            case .subtract: return try checked(x.subtractingReportingOverflow(y))
            case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
            case .divide:
                if y == 0 { throw TemplateFailure.type("division by zero") }
                return .double(Double(x) / Double(y))
            case .floorDivide, .modulo:
                if y == 0 {
                    throw TemplateFailure.type(op == .modulo ? "integer modulo by zero" : "integer division or modulo by zero")
                }
                if x == Int.min, y == -1 {
                    if op == .modulo { return .int(0) }
                    throw TemplateFailure.type("integer overflow (values beyond 64 bits are not supported)")
                }
                var quotient = x / y
                var remainder = x % y
                if remainder != 0, (remainder < 0) != (y < 0) {
                    quotient -= 1
                    remainder += y
                }
                return .int(op == .floorDivide ? quotient : remainder)
            case .power:
                if y < 0 { return try floatArithmetic(op, Double(x), Double(y)) }
                var result = 1
                var base = x
                var exponent = y
                while exponent > 0 {
                    if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).intValue }
                    exponent >>= 1
                    if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).intValue }
                }
                return .int(result)
            }
        }
        return try floatArithmetic(op, a.double, b.double)
    }

    private func floatArithmetic(_ op: BinaryOperator, _ x: Double, _ y: Double) throws -> Value {
        switch op {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide:
            if y == 0 { throw TemplateFailure.type("float division by zero") }
            return .double(x / y)
        case .floorDivide, .modulo:
            if y == 0 { throw TemplateFailure.type(op == .modulo ? "float modulo" : "float floor division by zero") }
            var remainder = fmod(x, y)
            if remainder != 0, (remainder < 0) != (y < 0) { remainder += y }
            if op == .modulo { return .double(remainder == 0 ? (y < 0 ? -0.0 : 0.0) : remainder) }
            return .double(((x - remainder) / y).rounded())
        case .power:
            if x == 0, y < 0 { throw TemplateFailure.type("0.0 cannot be raised to a negative power") }
            if x < 0, y.rounded() != y { throw TemplateFailure.unsupported("a complex result of **") }
            return .double(pow(x, y))
        }
    }

    // MARK: - Unary operators

    func negate(_ value: Value) throws -> Value {
        switch value {
        case .undefined(let undefined): throw TemplateFailure.type(undefined.message)
        case .bool(let flag): return .int(flag ? -1 : 0)
        case .int(let number):
            if number == Int.min { throw TemplateFailure.type("integer overflow (values beyond 64 bits are not supported)") }
            return .int(-number)
        case .double(let number): return .double(-number)
        default: throw TemplateFailure.type("bad operand type for unary -: '\(pyTypeName(value))'")
        }
    }

    func unaryPlus(_ value: Value) throws -> Value {
        switch value {
        case .undefined(let undefined): throw TemplateFailure.type(undefined.message)
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .int, .double: return value
        default: throw TemplateFailure.type("bad operand type for unary +: '\(pyTypeName(value))'")
        }
    }

    // MARK: - Comparisons

    func compare(_ op: CompareOperator, _ lhs: Value, _ rhs: Value) throws -> Bool {
        switch op {
        case .equal: return try pyEqual(lhs, rhs)
        case .notEqual: return !(try pyEqual(lhs, rhs))
        case .less: return try pyLess(lhs, rhs)
        case .lessEqual: return try pyLess(lhs, rhs, orEqual: true)
        case .greater: return try pyLess(rhs, lhs, symbol: ">", swapped: true)
        case .greaterEqual: return try pyLess(rhs, lhs, orEqual: true, symbol: ">=", swapped: true)
        case .contains: return try contains(rhs, lhs)
        case .notContains: return !(try contains(rhs, lhs))
        }
    }
}

extension Value {
    /// The int payload (only used right after producing an `.int`).
    fileprivate var intValue: Int { if case .int(let number) = self { return number } else { return 0 } }
}
