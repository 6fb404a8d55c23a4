// TemplateValue: the interpreter's run-time values, modelled on the Python objects jinja2 sees.
// Legend: Value = one Python value (undefined = jinja2.Undefined); PyDict = an ordered dict with
// Python key equality (1 == 1.0 == True); Namespace, PyIterator and LoopContext are reference
// types because Python shares them (a namespace set in a loop is seen after it, a generator is
// consumed once). They live only inside one render call and never cross threads.

// MARK: - Limits

/// Bounds that make a hostile template fail with an error instead of hanging or crashing.
enum Limits {
    static let outputBytes = 16 << 20
    static let stringBytes = 16 << 20
    static let collectionCount = 1_000_000
    static let loopIterations = 1_000_000
    static let valueDepth = 256
    /// Nesting of blocks and parenthesised expressions, and the height of an expression tree.
    static let nesting = 64
    /// jinja2's sandbox refuses `range()` longer than this (MAX_RANGE).
    static let range = 100_000
}

// MARK: - Value

/// A Python value as a template sees it.
indirect enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(PyDict)
    case namespace(Namespace)
    case iterator(PyIterator)
    case loop(LoopContext)
    case function(Function)

    static var emptyString: Value { .string("") }

    /// Whether this is jinja2's Undefined.
    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// The string, if this is one.
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
}

// MARK: - Undefined

/// jinja2.Undefined: prints as "", is falsy, iterates as empty, and raises UndefinedError (with
/// this message) when used in arithmetic, attribute access, calls and the like.
struct Undefined {
    var message: String

    /// `'name' is undefined`.
    static func named(_ name: String) -> Undefined { Undefined(message: "\(pyRepr(string: name)) is undefined") }

    /// A missing attribute or key `name` of `object` (jinja2's message for each shape of name).
    static func missing(_ name: Value, of object: Value) -> Undefined {
        let owner = objectTypeRepr(object)
        if case .string(let text) = name {
            return Undefined(message: "\(pyRepr(string: owner)) has no attribute \(pyRepr(string: text))")
        }
        let key = (try? pyRepr(name)) ?? "?"
        return Undefined(message: "\(owner) has no element \(key)")
    }

    /// jinja2's `object_type_repr`: "dict object", "None", or module-qualified for other classes.
    static func objectTypeRepr(_ object: Value) -> String {
        switch object {
        case .none: return "None"
        case .namespace: return "transformers.utils.chat_template_utils.TemplateNamespace object"
        case .loop: return "jinja2.runtime.LoopContext object"
        case .undefined: return "jinja2.runtime.Undefined object"
        default: return "\(pyTypeName(object)) object"
        }
    }
}

// MARK: - Functions

/// A callable value: a global of transformers' environment or a bound method.
enum Function {
    /// `raise_exception`, `namespace`, `range`, `dict`, `dict.fromkeys`, `strftime_now`, `cycler`...
    case global(String)
    /// `receiver.name`, e.g. `'a,b'.split`.
    case method(Value, String)

    /// The function or method name.
    var name: String {
        switch self {
        case .global(let name), .method(_, let name): return name
        }
    }
}

// MARK: - Reference types

/// jinja2's Namespace (`namespace(a=1)`), whose attributes `{% set ns.a = ... %}` can change.
final class Namespace {
    var attributes = PyDict()
}

/// A single-pass Python iterator (a generator from `select`, `map`, `items`, a reversed list).
final class PyIterator {
    /// The Python class name, for messages (`generator`, `list_reverseiterator`).
    let typeName: String
    /// The generator function name in its repr (`select_or_reject`, `do_map`).
    let functionName: String
    /// How many generators this one reads through (a bounded chain, so consuming it cannot
    /// recurse deeply).
    let depth: Int
    private let produce: () throws -> Value?
    private var finished = false

    init(typeName: String = "generator", functionName: String, depth: Int = 0, _ produce: @escaping () throws -> Value?) {
        self.typeName = typeName
        self.functionName = functionName
        self.depth = depth
        self.produce = produce
    }

    /// The depth of a generator reading `source`, or an error past Limits.valueDepth.
    static func depth(over source: Value) throws -> Int {
        guard case .iterator(let iterator) = source else { return 0 }
        guard iterator.depth < Limits.valueDepth else {
            throw TemplateFailure.type("generators are chained more than \(Limits.valueDepth) deep")
        }
        return iterator.depth + 1
    }

    /// An iterator over `items`.
    convenience init(typeName: String = "generator", functionName: String, items: [Value]) {
        var position = 0
        self.init(typeName: typeName, functionName: functionName) {
            guard position < items.count else { return nil }
            position += 1
            return items[position - 1]
        }
    }

    /// The next item, or nil once exhausted (and forever after).
    func next() throws -> Value? {
        if finished { return nil }
        if let value = try produce() { return value }
        finished = true
        return nil
    }
}

/// The `loop` variable of a for loop: one object per loop, its index advancing (as in jinja2).
final class LoopContext {
    let items: [Value]
    var index0: Int
    let depth0: Int
    var lastChanged: [Value]?

    init(items: [Value], index0: Int, depth0: Int) {
        self.items = items
        self.index0 = index0
        self.depth0 = depth0
    }

    /// `loop.<name>`, or nil when LoopContext has no such attribute.
    func attribute(_ name: String) -> Value? {
        let length = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(length - index0)
        case "revindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == length - 1)
        case "length": return .int(length)
        case "depth": return .int(depth0 + 1)
        case "depth0": return .int(depth0)
        case "previtem":
            return index0 > 0 ? items[index0 - 1] : .undefined(Undefined(message: "there is no previous item"))
        case "nextitem":
            return index0 + 1 < length ? items[index0 + 1] : .undefined(Undefined(message: "there is no next item"))
        case "cycle", "changed": return .function(.method(.loop(self), name))
        default: return nil
        }
    }
}

// MARK: - Type names

/// Python's `type(value).__name__`.
func pyTypeName(_ value: Value) -> String {
    switch value {
    case .undefined: return "Undefined"
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "str"
    case .list: return "list"
    case .tuple: return "tuple"
    case .dict: return "dict"
    case .namespace: return "TemplateNamespace"
    case .iterator(let iterator): return iterator.typeName
    case .loop: return "LoopContext"
    case .function(.method): return "builtin_function_or_method"
    case .function(.global(let name)): return name == "dict" ? "TemplateDict" : "function"
    }
}
