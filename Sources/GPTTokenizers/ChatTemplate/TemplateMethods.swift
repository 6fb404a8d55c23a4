// TemplateMethods: Python attributes and methods of template values (str, list, tuple, dict,
// int, float, loop) under transformers' ImmutableSandboxedEnvironment.
// Legend: pythonAttribute = Python's getattr (nil for AttributeError); methods that mutate
// (list.append, dict.update...) and `__dunder__` attributes are unsafe Undefineds; methods that
// exist in Python but are not implemented here raise `unsupported` when called.

// MARK: - Attribute tables

enum TemplateMethods {
    static let stringMethods: Set<String> = ["capitalize", "casefold", "center", "count", "encode", "endswith",
        "expandtabs", "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit",
        "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
        "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust",
        "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title",
        "translate", "upper", "zfill"]
    static let listMethods: Set<String> = ["append", "clear", "copy", "count", "extend", "index", "insert", "pop",
        "remove", "reverse", "sort"]
    static let unsafeListMethods: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]
    static let dictMethods: Set<String> = ["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem",
        "setdefault", "update", "values"]
    static let unsafeDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]
    static let intMethods: Set<String> = ["as_integer_ratio", "bit_count", "bit_length", "conjugate", "from_bytes",
        "is_integer", "to_bytes"]
    static let floatMethods: Set<String> = ["as_integer_ratio", "conjugate", "fromhex", "hex", "is_integer"]

    /// Python's `getattr(object, name)` in the sandbox, or nil when there is no such attribute.
    static func pythonAttribute(_ object: Value, _ name: String) -> Value? {
        if isDunder(name) { return unsafe(object, name) }
        func method(_ table: Set<String>, unsafe unsafeTable: Set<String> = []) -> Value? {
            guard table.contains(name) else { return nil }
            return unsafeTable.contains(name) ? unsafe(object, name) : .function(.method(object, name))
        }
        switch object {
        case .string: return method(stringMethods)
        case .list: return method(listMethods, unsafe: unsafeListMethods)
        case .tuple: return method(["count", "index"])
        case .dict: return method(dictMethods, unsafe: unsafeDictMethods)
        case .bool(let flag): return numberAttribute(.int(flag ? 1 : 0), name) ?? method(intMethods)
        case .int: return numberAttribute(object, name) ?? method(intMethods)
        case .double: return numberAttribute(object, name) ?? method(floatMethods)
        case .namespace(let namespace): return namespace.attributes.get(name)
        case .loop(let loop): return loop.attribute(name)
        case .function(.global("dict")): return name == "fromkeys" ? .function(.global("dict.fromkeys")) : nil
        default: return nil
        }
    }

    /// Whether `name` is a `__dunder__` name (taken to exist on every object, and unsafe).
    static func isDunder(_ name: String) -> Bool { name.count > 4 && name.hasPrefix("__") && name.hasSuffix("__") }

    private static func numberAttribute(_ number: Value, _ name: String) -> Value? {
        switch name {
        case "real": return number
        case "imag": if case .double = number { return .double(0) } else { return .int(0) }
        case "numerator": if case .int = number { return number } else { return nil }
        case "denominator": if case .int = number { return .int(1) } else { return nil }
        default: return nil
        }
    }

    private static func unsafe(_ object: Value, _ name: String) -> Value {
        .undefined(Undefined(message:
            "access to attribute \(pyRepr(string: name)) of \(pyRepr(string: pyTypeName(object))) object is unsafe."))
    }
}

// MARK: - Method calls

extension TemplateRenderer {
    func callMethod(_ receiver: Value, _ name: String, _ arguments: CallArguments) throws -> Value {
        switch receiver {
        case .string(let text): return try callStringMethod(text, name, arguments)
        case .dict(let dict):
            switch name {
            case "get":
                let bound = try arguments.bind("get", ["key", "default"], required: 1)
                return (try? dict.get(bound[0] ?? .none)).flatMap { $0 } ?? bound[1] ?? .none
            case "items":
                try arguments.none("items")
                return .list(dict.pairs.map { .tuple([$0, $1]) })
            case "keys":
                try arguments.none("keys")
                return .list(dict.keys)
            case "values":
                try arguments.none("values")
                return .list(dict.values)
            case "copy":
                try arguments.none("copy")
                return receiver
            default: break
            }
        case .list(let items), .tuple(let items):
            switch name {
            case "count":
                let bound = try arguments.bind("count", ["value"], required: 1)
                return .int(try items.filter { try pyEqual($0, bound[0] ?? .none) }.count)
            case "index":
                let bound = try arguments.bind("index", ["value"], required: 1)
                for (index, item) in items.enumerated() where try pyEqual(item, bound[0] ?? .none) { return .int(index) }
                throw TemplateFailure.type("\(try pyRepr(bound[0] ?? .none)) is not in \(pyTypeName(receiver))")
            case "copy":
                try arguments.none("copy")
                return receiver
            default: break
            }
        case .double(let number) where name == "is_integer":
            try arguments.none("is_integer")
            return .bool(number.rounded(.towardZero) == number)
        case .loop(let loop):
            if name == "cycle" {
                guard !arguments.positional.isEmpty else { throw TemplateFailure.type("no items for cycling given") }
                return arguments.positional[loop.index0 % arguments.positional.count]
            }
            if name == "changed" {
                let values = arguments.positional
                if let last = loop.lastChanged, try pyEqual(.tuple(last), .tuple(values)) { return .bool(false) }
                loop.lastChanged = values
                return .bool(true)
            }
        default: break
        }
        throw TemplateFailure.unsupported("the method \(pyTypeName(receiver)).\(name)()")
    }

    func callStringMethod(_ text: String, _ name: String, _ arguments: CallArguments) throws -> Value {
        func optionalString(_ value: Value?) throws -> String? {
            guard let value, !(value.isNone) else { return nil }
            return try stringArgument(value)
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try arguments.bind(name, ["chars"])[0].flatMap { try stripCharacters($0) }
            return .string(pyStrip(text, chars, left: name != "rstrip", right: name != "lstrip"))
        case "split", "rsplit":
            let bound = try arguments.bind(name, ["sep", "maxsplit"])
            let pieces = try pySplit(text, try optionalString(bound[0]), maxSplit: try bound[1].map(intArgument) ?? -1,
                fromRight: name == "rsplit")
            return .list(pieces.map { .string($0) })
        case "splitlines":
            let keepEnds = pyTruthy(try arguments.bind(name, ["keepends"])[0] ?? .bool(false))
            return .list(pySplitLines(text, keepEnds: keepEnds).map { .string($0) })
        case "startswith", "endswith":
            let bound = try arguments.bind(name, ["prefix"], required: 1)
            var candidates: [String] = []
            switch bound[0] ?? .none {
            case .string(let candidate): candidates = [candidate]
            case .tuple(let items): candidates = try items.map { try stringArgument($0, "tuple for \(name) ") }
            case let other:
                throw TemplateFailure.type(
                    "\(name) first arg must be str or a tuple of str, not \(pyTypeName(other))")
            }
            return .bool(candidates.contains { name == "startswith" ? text.utf8.starts(with: $0.utf8)
                : text.utf8.reversed().starts(with: $0.utf8.reversed()) })
        case "upper": try arguments.none(name); return .string(text.uppercased())
        case "lower", "casefold": try arguments.none(name); return .string(text.lowercased())
        case "title": try arguments.none(name); return .string(pyTitle(text))
        case "capitalize": try arguments.none(name); return .string(pyCapitalize(text))
        case "swapcase":
            try arguments.none(name)
            return .string(text.unicodeScalars.map { pyIsCased($0) && $0.properties.isUppercase
                ? $0.properties.lowercaseMapping : $0.properties.uppercaseMapping }.joined())
        case "replace":
            let bound = try arguments.bind(name, ["old", "new", "count"], required: 2)
            let result = try pyReplace(text, try stringArgument(bound[0] ?? .none), try stringArgument(bound[1] ?? .none),
                count: try bound[2].map(intArgument) ?? -1)
            try checkString(result)
            return .string(result)
        case "join":
            let items = try iterate(try arguments.bind(name, ["iterable"], required: 1)[0] ?? .none)
            var parts: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let part) = item else {
                    throw TemplateFailure.type("sequence item \(index): expected str instance, \(pyTypeName(item)) found")
                }
                parts.append(part)
            }
            return .string(try boundedJoin(parts, separator: text) { $0 })
        case "find", "rfind", "index", "rindex":
            let needle = try stringArgument(try arguments.bind(name, ["sub"], required: 1)[0] ?? .none)
            let found = pyFind(text, needle, fromRight: name.hasPrefix("r"))
            if found < 0, name.hasSuffix("index") { throw TemplateFailure.type("substring not found") }
            return .int(found)
        case "count":
            return .int(pyCount(text, try stringArgument(try arguments.bind(name, ["sub"], required: 1)[0] ?? .none)))
        case "removeprefix", "removesuffix":
            let affix = try stringArgument(try arguments.bind(name, ["affix"], required: 1)[0] ?? .none)
            let scalars = Array(text.unicodeScalars)
            let affixCount = affix.unicodeScalars.count
            if name == "removeprefix", text.utf8.starts(with: affix.utf8) {
                return .string(String(String.UnicodeScalarView(scalars[affixCount...])))
            }
            if name == "removesuffix", affixCount > 0, text.utf8.reversed().starts(with: affix.utf8.reversed()) {
                return .string(String(String.UnicodeScalarView(scalars[..<(scalars.count - affixCount)])))
            }
            return .string(text)
        case "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "isascii":
            try arguments.none(name)
            return .bool(stringPredicate(text, name))
        case "format":
            return .string(try pyFormat(text, arguments))
        case "center", "ljust", "rjust", "zfill":
            let bound = try arguments.bind(name, ["width", "fillchar"], required: 1)
            let width = try intArgument(bound[0] ?? .none)
            let fill = name == "zfill" ? "0" : try optionalString(bound[1]) ?? " "
            return .string(try pad(text, width: width, fill: fill, how: name))
        default:
            throw TemplateFailure.unsupported("the method str.\(name)()")
        }
    }

    private func stringPredicate(_ text: String, _ name: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        if name == "isascii" { return scalars.allSatisfy(\.isASCII) }
        if name == "islower" || name == "isupper" {
            let cased = scalars.filter(pyIsCased)
            return !cased.isEmpty && cased.allSatisfy { name == "islower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        }
        guard !scalars.isEmpty else { return false }
        return scalars.allSatisfy { scalar in
            let numeric = scalar.properties.numericType != nil
            let alpha = scalar.properties.isAlphabetic && !numeric
            switch name {
            case "isdigit", "isdecimal", "isnumeric": return numeric
            case "isalpha": return alpha
            case "isalnum": return alpha || numeric
            default: return pyIsSpace(scalar)
            }
        }
    }

    private func pad(_ text: String, width: Int, fill: String, how: String) throws -> String {
        guard fill.unicodeScalars.count == 1 else {
            throw TemplateFailure.type("The fill character must be exactly one character long")
        }
        if width > Limits.stringBytes { throw TemplateFailure.type("a string would exceed \(Limits.stringBytes) bytes") }
        let missing = max(0, width - text.unicodeScalars.count)
        switch how {
        case "ljust": return text + String(repeating: fill, count: missing)
        case "rjust": return String(repeating: fill, count: missing) + text
        case "zfill":
            if let sign = text.unicodeScalars.first, sign == "-" || sign == "+" {
                return String(sign) + String(repeating: "0", count: missing) + String(text.unicodeScalars.dropFirst())
            }
            return String(repeating: "0", count: missing) + text
        default:
            let left = missing / 2 + (missing & width & 1)
            return String(repeating: fill, count: left) + text + String(repeating: fill, count: missing - left)
        }
    }
}

extension Value {
    /// Whether this is Python None.
    var isNone: Bool { if case .none = self { return true } else { return false } }
}
