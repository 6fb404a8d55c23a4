// TemplateFilters+Sequences: the filters on sequences and mappings.
// Legend: attribute paths ("a.b.0") are looked up with the sandboxed getitem at each dot, as
// jinja2's make_attrgetter does; case-insensitive sorting and uniqueness lower-case strings only;
// select/reject/map/items/unique/batch are lazy generators, evaluated when consumed.

// MARK: - Sequence filters

extension TemplateRenderer {
    func applySequenceFilter(_ name: String, _ value: Value, _ arguments: CallArguments) throws -> Value {
        switch name {
        case "first":
            try arguments.none(name)
            if case .iterator(let iterator) = value {
                return try iterator.next() ?? .undefined(Undefined(message: "No first item, sequence was empty."))
            }
            return try iterate(value).first ?? .undefined(Undefined(message: "No first item, sequence was empty."))
        case "last":
            try arguments.none(name)
            if case .iterator(let iterator) = value {
                throw TemplateFailure.type("'\(iterator.typeName)' object is not reversible")
            }
            return try iterate(value).last ?? .undefined(Undefined(message: "No last item, sequence was empty."))
        case "list":
            try arguments.none(name)
            return .list(try iterate(value))
        case "join":
            let bound = try arguments.bind(name, ["d", "attribute"])
            var items = try iterate(value)
            if let path = bound[1], !path.isNone {
                let getter = try attributeGetter(path)
                items = try items.map(getter)
            }
            return .string(try boundedJoin(items, separator: try pyStr(bound[0] ?? .emptyString), pyStr))
        case "items":
            try arguments.none(name)
            if value.isUndefined { return .iterator(PyIterator(functionName: "do_items", items: [])) }
            guard case .dict(let dict) = value else { throw TemplateFailure.type("Can only get item pairs from a mapping.") }
            return .iterator(PyIterator(functionName: "do_items", items: dict.pairs.map { .tuple([$0, $1]) }))
        case "reverse":
            try arguments.none(name)
            switch value {
            case .string(let text): return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed())))
            case .list(let items): return .iterator(PyIterator(typeName: "list_reverseiterator", functionName: "", items: items.reversed()))
            case .tuple(let items):
                return .iterator(PyIterator(typeName: "reversed", functionName: "", items: items.reversed()))
            case .dict(let dict):
                return .iterator(PyIterator(typeName: "dict_reversekeyiterator", functionName: "", items: dict.keys.reversed()))
            default: return .list(try iterate(value).reversed())
            }
        case "sort":
            let bound = try arguments.bind(name, ["reverse", "case_sensitive", "attribute"])
            let keys = try sortKeys(bound[2], caseSensitive: pyTruthy(bound[1] ?? .bool(false)), multiple: true)
            return .list(try sorted(try iterate(value), key: keys, reverse: pyTruthy(bound[0] ?? .bool(false))))
        case "dictsort":
            let bound = try arguments.bind(name, ["case_sensitive", "by", "reverse"])
            guard case .dict(let dict) = value else {
                throw TemplateFailure.type("'\(pyTypeName(value))' object has no attribute 'items'")
            }
            let by = try pyStr(bound[1] ?? .string("key"))
            guard by == "key" || by == "value" else {
                throw TemplateFailure.type("You can only sort by either \"key\" or \"value\"")
            }
            let caseSensitive = pyTruthy(bound[0] ?? .bool(false))
            let pairs = dict.pairs.map { Value.tuple([$0, $1]) }
            let key: (Value) throws -> Value = { pair in
                guard case .tuple(let parts) = pair else { return pair }
                let part = parts[by == "key" ? 0 : 1]
                return caseSensitive ? part : self.ignoreCase(part)
            }
            return .list(try sorted(pairs, key: key, reverse: pyTruthy(bound[2] ?? .bool(false))))
        case "unique":
            let bound = try arguments.bind(name, ["case_sensitive", "attribute"])
            let key = try sortKeys(bound[1], caseSensitive: pyTruthy(bound[0] ?? .bool(false)), multiple: false)
            let source = try lazySource(value)
            var seen = Set<HashKey>()
            return .iterator(PyIterator(functionName: "sync_do_unique", depth: try PyIterator.depth(over: value)) {
                while let item = try source() {
                    if seen.insert(try HashKey(try key(item))).inserted { return item }
                }
                return nil
            })
        case "min", "max":
            let bound = try arguments.bind(name, ["case_sensitive", "attribute"])
            let key = try sortKeys(bound[1], caseSensitive: pyTruthy(bound[0] ?? .bool(false)), multiple: false)
            let items = try iterate(value)
            guard var best = items.first else { return .undefined(Undefined(message: "No aggregated item, sequence was empty.")) }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let itemKey = try key(item)
                if name == "min" ? try pyLess(itemKey, bestKey) : try pyLess(bestKey, itemKey, symbol: ">", swapped: true) {
                    best = item
                    bestKey = itemKey
                }
            }
            return best
        case "sum":
            let bound = try arguments.bind(name, ["attribute", "start"])
            var total = bound[1] ?? .int(0)
            if case .string = total { throw TemplateFailure.type("sum() can't sum strings [use ''.join(seq) instead]") }
            let getter = try bound[0].flatMap { $0.isNone ? nil : try attributeGetter($0) }
            for item in try iterate(value) { total = try binary(.add, total, try getter?(item) ?? item) }
            return total
        case "batch":
            let bound = try arguments.bind(name, ["linecount", "fill_with"], required: 1)
            let size = try intArgument(bound[0] ?? .none)
            let fill = bound[1].flatMap { $0.isNone ? nil : $0 }
            var batches: [Value] = []
            var batch: [Value] = []
            for item in try iterate(value) {
                if batch.count == size {
                    batches.append(.list(batch))
                    batch = []
                }
                batch.append(item)
            }
            if !batch.isEmpty {
                if let fill, batch.count < size {
                    try checkCount(size)
                    batch += Array(repeating: fill, count: size - batch.count)
                }
                batches.append(.list(batch))
            }
            return .iterator(PyIterator(functionName: "do_batch", items: batches))
        case "map":
            return .iterator(PyIterator(functionName: "sync_do_map", depth: try PyIterator.depth(over: value),
                try mapper(value, arguments)))
        case "select", "reject", "selectattr", "rejectattr":
            return .iterator(PyIterator(functionName: "select_or_reject", depth: try PyIterator.depth(over: value),
                try selector(name, value, arguments)))
        default:
            throw TemplateFailure.unsupported("filter '\(name)'")
        }
    }

    // MARK: - Helpers

    /// A closure producing the items of `value` one by one (consuming an iterator lazily).
    func lazySource(_ value: Value) throws -> () throws -> Value? {
        if case .iterator(let iterator) = value { return { try iterator.next() } }
        let items = try iterate(value)
        var position = 0
        return {
            guard position < items.count else { return nil }
            position += 1
            return items[position - 1]
        }
    }

    /// The item source of a jinja2 generator that starts with `if value:`: nil when `value` is
    /// falsy, and made on first use (so a bad value fails when consumed, as in Python).
    private func deferredSource(_ value: Value) -> () throws -> (() throws -> Value?)? {
        let truthy = pyTruthy(value)
        var made: (() throws -> Value?)?
        return { [weak self] in
            guard truthy, let self else { return nil }
            if made == nil { made = try self.lazySource(value) }
            return made
        }
    }

    /// jinja2's make_attrgetter: `"a.b.0"` looked up part by part.
    func attributeGetter(_ path: Value, default fallback: Value? = nil) throws -> (Value) throws -> Value {
        let parts: [Value]
        switch path {
        case .string(let text):
            parts = text.split(separator: ".", omittingEmptySubsequences: false).map { part in
                part.allSatisfy(\.isASCII) && !part.isEmpty && part.allSatisfy(\.isNumber) ? .int(Int(part) ?? 0) : .string(String(part))
            }
        case .int, .bool: parts = [path]
        case .none: parts = []
        default: parts = [path]
        }
        return { [weak self] item in
            guard let self else { return item }
            var current = item
            for part in parts {
                current = try self.item(of: current, part)
                if let fallback, current.isUndefined { current = fallback }
            }
            return current
        }
    }

    private func ignoreCase(_ value: Value) -> Value {
        if case .string(let text) = value { return .string(text.lowercased()) }
        return value
    }

    /// The sort/unique key: an attribute path (comma-separated for sort), lower-cased unless
    /// `caseSensitive`.
    private func sortKeys(_ attribute: Value?, caseSensitive: Bool, multiple: Bool) throws -> (Value) throws -> Value {
        var getters: [(Value) throws -> Value] = []
        if let attribute, !attribute.isNone {
            if multiple, case .string(let text) = attribute {
                getters = try text.split(separator: ",", omittingEmptySubsequences: false).map {
                    try attributeGetter(.string(String($0)))
                }
            } else {
                getters = [try attributeGetter(attribute)]
            }
        }
        return { [weak self] item in
            guard let self else { return item }
            if getters.isEmpty { return caseSensitive ? item : self.ignoreCase(item) }
            let keys = try getters.map { caseSensitive ? try $0(item) : self.ignoreCase(try $0(item)) }
            return multiple ? .list(keys) : keys[0]
        }
    }

    /// A stable sort by Python `<` on the keys.
    private func sorted(_ items: [Value], key: (Value) throws -> Value, reverse: Bool) throws -> [Value] {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), item: $0.element) }
        var failure: Error?
        let order = keyed.sorted { lhs, rhs in
            do {
                let (first, second) = reverse ? (rhs.key, lhs.key) : (lhs.key, rhs.key)
                if try pyLess(first, second) { return true }
                if try pyLess(second, first) { return false }
                return lhs.offset < rhs.offset
            } catch {
                failure = failure ?? error
                return lhs.offset < rhs.offset
            }
        }
        if let failure { throw failure }
        return order.map(\.item)
    }

    private func mapper(_ value: Value, _ arguments: CallArguments) throws -> () throws -> Value? {
        var transform: (Value) throws -> Value
        if arguments.positional.isEmpty, let attribute = arguments.keywords.first(where: { $0.name == "attribute" }) {
            let fallback = arguments.keywords.first { $0.name == "default" }?.value
            if let extra = arguments.keywords.first(where: { $0.name != "attribute" && $0.name != "default" }) {
                throw TemplateFailure.type("Unexpected keyword argument \(pyRepr(string: extra.name))")
            }
            transform = try attributeGetter(attribute.value, default: fallback.flatMap { $0.isNone ? nil : $0 })
        } else {
            guard let filterName = arguments.positional.first else { throw TemplateFailure.type("map requires a filter argument") }
            let name = try stringArgument(filterName)
            guard TemplateFilters.names.contains(name) else { throw TemplateFailure.unsupported("filter '\(name)'") }
            let rest = CallArguments(positional: Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
            transform = { [weak self] item in try self?.applyFilter(name, item, rest) ?? item }
        }
        let source = deferredSource(value)
        return { try source()?().map(transform) }
    }

    private func selector(_ name: String, _ value: Value, _ arguments: CallArguments) throws -> () throws -> Value? {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var positional = arguments.positional[...]
        var transform: (Value) throws -> Value = { $0 }
        if byAttribute {
            guard let attribute = positional.popFirst() else { throw TemplateFailure.type("Missing parameter for attribute name") }
            transform = try attributeGetter(attribute)
        }
        var test: (Value) throws -> Bool = { pyTruthy($0) }
        if let testName = positional.popFirst() {
            let testText = try stringArgument(testName)
            guard TemplateTests.names.contains(testText) else { throw TemplateFailure.unsupported("test '\(testText)'") }
            let rest = CallArguments(positional: Array(positional), keywords: arguments.keywords)
            test = { [weak self] item in try self?.applyTest(testText, item, rest) ?? false }
        }
        let source = deferredSource(value)
        return {
            guard let next = try source() else { return nil }
            while let item = try next() { if try test(try transform(item)) == keep { return item } }
            return nil
        }
    }
}
