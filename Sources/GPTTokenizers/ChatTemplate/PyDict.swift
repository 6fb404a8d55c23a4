// PyDict: an insertion-ordered dictionary with Python's key semantics.
// Legend: HashKey = the hashable form of a Python key (True, 1 and 1.0 are one key; strings are
// compared by code point, not by Swift's canonical equivalence); lists, dicts and other mutable
// values are unhashable and make a lookup throw Python's TypeError.

// MARK: - HashKey

/// A string compared and hashed by its UTF-8 bytes (i.e. by code points, as Python does).
struct CodePointString: Hashable {
    let text: String
    static func == (lhs: CodePointString, rhs: CodePointString) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }
    func hash(into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        for byte in text.utf8 { hasher.combine(byte) }
    }
}

/// The hashable identity of a Python dict key.
enum HashKey: Hashable {
    case none
    case int(Int)
    case double(UInt64)
    case string(CodePointString)
    case tuple([HashKey])
    case identity(ObjectIdentifier)

    /// The key for `value`, or Python's "unhashable type" TypeError.
    init(_ value: Value) throws {
        switch value {
        case .none: self = .none
        case .bool(let flag): self = .int(flag ? 1 : 0)
        case .int(let number): self = .int(number)
        case .double(let number):
            if number.rounded(.towardZero) == number, Swift.abs(number) < 0x1p63 {
                self = .int(Int(number))
            } else {
                self = .double(number.bitPattern)
            }
        case .string(let text): self = .string(CodePointString(text: text))
        case .tuple(let items): self = .tuple(try items.map { try HashKey($0) })
        case .namespace(let namespace): self = .identity(ObjectIdentifier(namespace))
        case .iterator(let iterator): self = .identity(ObjectIdentifier(iterator))
        case .loop(let loop): self = .identity(ObjectIdentifier(loop))
        case .undefined:
            // jinja2.Undefined hashes by id(type(self)), and all Undefineds are equal: one key.
            self = .string(CodePointString(text: "\u{0}Undefined"))
        case .function(let function):
            self = .string(CodePointString(text: "\u{0}function \(function.name)"))
        case .list, .dict:
            throw TemplateFailure.type("unhashable type: '\(pyTypeName(value))'")
        }
    }
}

// MARK: - PyDict

/// An ordered Python dict.
struct PyDict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    private var index: [HashKey: Int] = [:]

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    /// The (key, value) pairs in insertion order.
    var pairs: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

    /// The value for `key`, nil when absent; throws for an unhashable key.
    func get(_ key: Value) throws -> Value? {
        guard let position = index[try HashKey(key)] else { return nil }
        return values[position]
    }

    /// The value for a string key.
    func get(_ key: String) -> Value? {
        guard let position = index[.string(CodePointString(text: key))] else { return nil }
        return values[position]
    }

    /// Whether `key` is present; throws for an unhashable key.
    func contains(_ key: Value) throws -> Bool { index[try HashKey(key)] != nil }

    /// Sets `key` to `value`; an existing key keeps its place (and its original key object).
    mutating func set(_ key: Value, _ value: Value) throws {
        let hashKey = try HashKey(key)
        if let position = index[hashKey] {
            values[position] = value
        } else {
            index[hashKey] = keys.count
            keys.append(key)
            values.append(value)
        }
    }

    /// Sets a string key.
    mutating func set(_ key: String, _ value: Value) {
        let hashKey = HashKey.string(CodePointString(text: key))
        if let position = index[hashKey] {
            values[position] = value
        } else {
            index[hashKey] = keys.count
            keys.append(.string(key))
            values.append(value)
        }
    }

    /// Python `==` on dicts: the same keys with equal values, in any order.
    func pyEquals(_ other: PyDict, depth: Int) throws -> Bool {
        guard count == other.count else { return false }
        for (key, value) in pairs {
            guard let otherValue = try other.get(key), try pyEqual(value, otherValue, depth: depth + 1) else {
                return false
            }
        }
        return true
    }
}
