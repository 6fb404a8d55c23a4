// TemplateTestFunctions: jinja2's tests (`x is defined`, `x is divisibleby 3`...).
// Legend: `names` = every jinja2 3.1 test, all implemented; Python's isinstance rules apply
// (bool counts as a number but not as an integer; str, list, tuple, dict and Undefined are
// sequences; anything iter() accepts, Undefined included, is iterable).

// MARK: - Names

enum TemplateTests {
    static let names: Set<String> = ["odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none",
        "boolean", "false", "true", "integer", "float", "lower", "upper", "string", "mapping", "number", "sequence",
        "iterable", "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan",
        ">=", "ge", "<", "lt", "lessthan", "<=", "le"]
}

// MARK: - Evaluation

extension TemplateRenderer {
    /// `value is name(arguments)`.
    func applyTest(_ name: String, _ value: Value, _ arguments: CallArguments) throws -> Bool {
        func other() throws -> Value { try arguments.bind(name, ["other"], required: 1)[0] ?? .none }
        switch name {
        case "defined": try arguments.none(name); return !value.isUndefined
        case "undefined": try arguments.none(name); return value.isUndefined
        case "none": try arguments.none(name); return value.isNone
        case "boolean": try arguments.none(name); if case .bool = value { return true } else { return false }
        case "true": try arguments.none(name); if case .bool(true) = value { return true } else { return false }
        case "false": try arguments.none(name); if case .bool(false) = value { return true } else { return false }
        case "integer": try arguments.none(name); if case .int = value { return true } else { return false }
        case "float": try arguments.none(name); if case .double = value { return true } else { return false }
        case "number": try arguments.none(name); return PyNumber(value) != nil
        case "string": try arguments.none(name); return value.stringValue != nil
        case "mapping": try arguments.none(name); if case .dict = value { return true } else { return false }
        case "escaped": try arguments.none(name); return false
        case "sequence":
            try arguments.none(name)
            switch value {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "iterable":
            try arguments.none(name)
            switch value {
            case .string, .list, .tuple, .dict, .undefined, .iterator, .loop: return true
            default: return false
            }
        case "callable":
            try arguments.none(name)
            switch value {
            case .function, .undefined, .loop: return true
            default: return false
            }
        case "lower", "upper":
            try arguments.none(name)
            let text = try pyStr(value)
            return try callStringMethod(text, name == "lower" ? "islower" : "isupper", CallArguments()).isTrue
        case "odd", "even":
            try arguments.none(name)
            let remainder = try binary(.modulo, value, .int(2))
            return try pyEqual(remainder, .int(name == "odd" ? 1 : 0))
        case "divisibleby":
            return try pyEqual(try binary(.modulo, value, try arguments.bind(name, ["num"], required: 1)[0] ?? .none), .int(0))
        case "filter", "test":
            let text = try arguments.bind(name, ["value"], required: 1)[0]?.stringValue ?? ""
            return name == "filter" ? TemplateFilters.names.contains(text) : TemplateTests.names.contains(text)
        case "sameas":
            let target = try other()
            switch (value, target) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b && (-5...256).contains(a)
            case (.namespace(let a), .namespace(let b)): return a === b
            case (.iterator(let a), .iterator(let b)): return a === b
            case (.loop(let a), .loop(let b)): return a === b
            default: return false
            }
        case "in": return try contains(try arguments.bind(name, ["seq"], required: 1)[0] ?? .none, value)
        case "==", "eq", "equalto": return try compare(.equal, value, try other())
        case "!=", "ne": return try compare(.notEqual, value, try other())
        case ">", "gt", "greaterthan": return try compare(.greater, value, try other())
        case ">=", "ge": return try compare(.greaterEqual, value, try other())
        case "<", "lt", "lessthan": return try compare(.less, value, try other())
        case "<=", "le": return try compare(.lessEqual, value, try other())
        default: throw TemplateFailure.unsupported("test '\(name)'")
        }
    }
}

extension Value {
    /// Whether this is `True`.
    var isTrue: Bool { if case .bool(true) = self { return true } else { return false } }
}
