// TemplateRenderer+Expressions: evaluating expressions, with jinja2's sandboxed lookup rules.
// Legend: `a.b` tries the Python attribute first (a method such as dict.items), then the key;
// `a['b']` tries the key first, then the attribute; a missing one is Undefined, an existing
// attribute starting with `__` or a mutating method (list.append, dict.update...) is an "unsafe"
// Undefined whose use raises jinja2's SecurityError message. Operators are in TemplateOperators.swift.

// MARK: - Evaluation

extension TemplateRenderer {
    func evaluate(_ expression: Expr) throws -> Value {
        do {
            return try evaluateKind(expression)
        } catch let failure as TemplateFailure {
            throw failure.error(line: expression.line)
        }
    }

    func evaluate(_ arguments: Arguments) throws -> CallArguments {
        CallArguments(
            positional: try arguments.positional.map { try evaluate($0) },
            keywords: try arguments.keywords.map { ($0.name, try evaluate($0.value)) })
    }

    private func evaluateKind(_ expression: Expr) throws -> Value {
        switch expression.kind {
        case .constant(let constant):
            switch constant {
            case .none: return .none
            case .bool(let flag): return .bool(flag)
            case .int(let number): return .int(number)
            case .double(let number): return .double(number)
            case .string(let text): return .string(text)
            }
        case .name(let name):
            return lookup(name)
        case .list(let items):
            let value = Value.list(try items.map { try evaluate($0) })
            try checkDepth(value)
            return value
        case .tuple(let items):
            let value = Value.tuple(try items.map { try evaluate($0) })
            try checkDepth(value)
            return value
        case .dict(let entries):
            var dict = PyDict()
            for entry in entries { try dict.set(try evaluate(entry.key), try evaluate(entry.value)) }
            try checkDepth(.dict(dict))
            return .dict(dict)
        case .attribute(let base, let name):
            return try attribute(of: try evaluate(base), name)
        case .item(let base, let indexExpr):
            let object = try evaluate(base)
            if case .slice(let start, let stop, let step) = indexExpr.kind {
                let bounds = try [start, stop, step].map { try $0.map { try evaluate($0) } ?? Value.none }
                return try slice(object, bounds[0], bounds[1], bounds[2])
            }
            return try item(of: object, try evaluate(indexExpr))
        case .slice:
            throw TemplateFailure.type("a slice outside a subscript")
        case .call(let callee, let arguments):
            let function = try evaluate(callee)
            return try call(function, try evaluate(arguments))
        case .filter(let subject, let filter):
            let value = try evaluate(subject)
            let arguments = try evaluate(filter.arguments)
            return try applyFilter(filter.name, value, arguments)
        case .test(let subject, let test):
            let value = try evaluate(subject)
            return .bool(try applyTest(test.name, value, try evaluate(test.arguments)))
        case .not(let operand):
            return .bool(!pyTruthy(try evaluate(operand)))
        case .negate(let operand):
            return try negate(try evaluate(operand))
        case .plus(let operand):
            return try unaryPlus(try evaluate(operand))
        case .binary(let op, let left, let right):
            let lhs = try evaluate(left)
            return try binary(op, lhs, try evaluate(right))
        case .and(let left, let right):
            let lhs = try evaluate(left)
            return pyTruthy(lhs) ? try evaluate(right) : lhs
        case .or(let left, let right):
            let lhs = try evaluate(left)
            return pyTruthy(lhs) ? lhs : try evaluate(right)
        case .compare(let first, let operations):
            var left = try evaluate(first)
            for operation in operations {
                let right = try evaluate(operation.operand)
                guard try compare(operation.op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let items):
            return .string(try boundedJoin(items, separator: "") { try pyStr(try evaluate($0)) })
        case .conditional(let test, let then, let otherwise):
            if pyTruthy(try evaluate(test)) { return try evaluate(then) }
            if let otherwise { return try evaluate(otherwise) }
            return .undefined(Undefined(message:
                "the inline if-expression on line \(expression.line) evaluated to false and no else section was defined."))
        }
    }

    // MARK: - Limits on values

    /// Fails when `value` nests containers deeper than Limits.valueDepth.
    func checkDepth(_ value: Value, depth: Int = 0) throws {
        guard depth <= Limits.valueDepth else {
            throw TemplateFailure.type("a value is nested more than \(Limits.valueDepth) levels deep")
        }
        switch value {
        case .list(let items), .tuple(let items):
            for item in items { try checkDepth(item, depth: depth + 1) }
        case .dict(let dict):
            for item in dict.values { try checkDepth(item, depth: depth + 1) }
        case .namespace(let namespace):
            for item in namespace.attributes.values { try checkDepth(item, depth: depth + 1) }
        default: break
        }
    }

    func checkString(_ text: String) throws {
        if text.utf8.count > Limits.stringBytes { throw TemplateFailure.type("a string exceeds \(Limits.stringBytes) bytes") }
    }

    // MARK: - Attributes and items

    /// `object.name` (jinja2's sandboxed getattr).
    func attribute(of object: Value, _ name: String) throws -> Value {
        if case .undefined(let undefined) = object, !TemplateMethods.isDunder(name) {
            throw TemplateFailure.type(undefined.message)
        }
        if let found = TemplateMethods.pythonAttribute(object, name) { return found }
        if case .dict(let dict) = object, let value = dict.get(name) { return value }
        return .undefined(.missing(.string(name), of: object))
    }

    /// `object[key]` (jinja2's sandboxed getitem).
    func item(of object: Value, _ key: Value) throws -> Value {
        switch object {
        case .undefined(let undefined):
            throw TemplateFailure.type(undefined.message)
        case .dict(let dict):
            if let value = try? dict.get(key) { return value }
        case .list(let items), .tuple(let items):
            if let index = integerIndex(key), let element = element(items, index) { return element }
        case .string(let text):
            if let index = integerIndex(key) {
                let scalars = Array(text.unicodeScalars)
                if let element = element(scalars, index) { return .string(String(element)) }
            }
        default: break
        }
        if case .string(let name) = key, let found = TemplateMethods.pythonAttribute(object, name) { return found }
        return .undefined(.missing(key, of: object))
    }

    private func integerIndex(_ key: Value) -> Int? {
        switch key {
        case .int(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }

    private func element<T>(_ items: [T], _ index: Int) -> T? {
        let position = index < 0 ? items.count + index : index
        return items.indices.contains(position) ? items[position] : nil
    }

    /// `object[start:stop:step]`. jinja2 compiles slices to plain Python subscripts (not its
    /// sandboxed getitem), so a bad slice raises Python's TypeError instead of giving Undefined.
    func slice(_ object: Value, _ start: Value, _ stop: Value, _ step: Value) throws -> Value {
        if case .undefined(let undefined) = object { throw TemplateFailure.type(undefined.message) }
        func bound(_ value: Value) throws -> Int? {
            switch value {
            case .none: return nil
            case .int(let number): return number
            case .bool(let flag): return flag ? 1 : 0
            default: throw TemplateFailure.type("slice indices must be integers or None or have an __index__ method")
            }
        }
        let first = try bound(start)
        let last = try bound(stop)
        let stride = try bound(step)
        switch object {
        case .list, .tuple, .string: if stride == 0 { throw TemplateFailure.type("slice step cannot be zero") }
        case .dict: throw TemplateFailure.type("unhashable type: 'slice'")
        default: throw TemplateFailure.type("'\(pyTypeName(object))' object is not subscriptable")
        }
        switch object {
        case .list(let items): return .list(pySlice(items, first, last, stride))
        case .tuple(let items): return .tuple(pySlice(items, first, last, stride))
        case .string(let text):
            return .string(String(String.UnicodeScalarView(pySlice(Array(text.unicodeScalars), first, last, stride))))
        default: return .none
        }
    }

    // MARK: - Iteration and membership

    /// The items of a for loop over `value` (Python's iter()).
    func iterate(_ value: Value, unpacking: Bool = false) throws -> [Value] {
        switch value {
        case .list(let items), .tuple(let items): return items
        case .string(let text):
            guard text.utf8.count <= Limits.collectionCount || text.unicodeScalars.count <= Limits.collectionCount else {
                throw TemplateFailure.type("iterating a string of more than \(Limits.collectionCount) characters")
            }
            return text.unicodeScalars.map { .string(String($0)) }
        case .dict(let dict): return dict.keys
        case .undefined: return []
        case .iterator(let iterator):
            var items: [Value] = []
            while let item = try iterator.next() {
                items.append(item)
                if items.count > Limits.collectionCount {
                    throw TemplateFailure.type("an iterator yields more than \(Limits.collectionCount) items")
                }
            }
            return items
        default:
            if unpacking { throw TemplateFailure.type("cannot unpack non-iterable \(pyTypeName(value)) object") }
            throw TemplateFailure.type("'\(pyTypeName(value))' object is not iterable")
        }
    }

    /// Python `item in container`.
    func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let needle) = item else {
                if case .undefined(let undefined) = item { throw TemplateFailure.type(undefined.message) }
                throw TemplateFailure.type("'in <string>' requires string as left operand, not \(pyTypeName(item))")
            }
            return needle.isEmpty || pyFind(text, needle) >= 0
        case .dict(let dict): return try dict.contains(item)
        case .list(let items), .tuple(let items):
            for element in items where try pyEqual(element, item) { return true }
            return false
        case .undefined: return false
        case .iterator(let iterator):
            while let element = try iterator.next() { if try pyEqual(element, item) { return true } }
            return false
        default:
            throw TemplateFailure.type("argument of type '\(pyTypeName(container))' is not iterable")
        }
    }
}

// MARK: - Slicing

/// Python's `sequence[start:stop:step]` (step non-zero).
func pySlice<T>(_ items: [T], _ start: Int?, _ stop: Int?, _ step: Int?) -> [T] {
    let count = items.count
    let stride = step ?? 1
    func adjust(_ value: Int?, _ defaultValue: Int) -> Int {
        guard let value else { return defaultValue }
        if value < 0 {
            let shifted = value &+ count
            return shifted < 0 ? (stride < 0 ? -1 : 0) : shifted
        }
        return value >= count ? (stride < 0 ? count - 1 : count) : value
    }
    let first = adjust(start, stride < 0 ? count - 1 : 0)
    let last = adjust(stop, stride < 0 ? -1 : count)
    var result: [T] = []
    var position = first
    if stride > 0 {
        while position < last {
            result.append(items[position])
            let (next, overflow) = position.addingReportingOverflow(stride)
            if overflow { break }
            position = next
        }
    } else {
        while position > last {
            result.append(items[position])
            let (next, overflow) = position.addingReportingOverflow(stride)
            if overflow { break }
            position = next
        }
    }
    return result
}
