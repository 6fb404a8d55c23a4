// TemplateGlobals: the functions a template can call, and argument binding for all calls.
// Legend: the globals are transformers' (raise_exception, strftime_now, namespace, dict,
// dict.fromkeys) and jinja2's (range, bounded by the sandbox's MAX_RANGE; cycler, joiner and
// lipsum are refused). CallArguments binds positional and keyword arguments the Python way.

import Foundation

// MARK: - Arguments

/// Evaluated call arguments.
struct CallArguments {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []

    /// Binds to `parameters` (Python-style: positional in order, then by keyword); the first
    /// `required` must be given. Returns one optional value per parameter.
    func bind(_ function: String, _ parameters: [String], required: Int = 0) throws -> [Value?] {
        guard positional.count <= parameters.count else {
            throw TemplateFailure.type(
                "\(function)() takes at most \(parameters.count) arguments (\(positional.count) given)")
        }
        var bound: [Value?] = positional.map { $0 } + Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keywords {
            guard let index = parameters.firstIndex(of: name) else {
                throw TemplateFailure.type("\(function)() got an unexpected keyword argument \(pyRepr(string: name))")
            }
            if bound[index] != nil {
                throw TemplateFailure.type("\(function)() got multiple values for argument \(pyRepr(string: name))")
            }
            bound[index] = value
        }
        for index in 0..<min(required, parameters.count) where bound[index] == nil {
            throw TemplateFailure.type("\(function)() missing required argument \(pyRepr(string: parameters[index]))")
        }
        return bound
    }

    /// Fails unless there are no arguments at all.
    func none(_ function: String) throws {
        if !positional.isEmpty || !keywords.isEmpty {
            throw TemplateFailure.type("\(function)() takes no arguments (\(positional.count + keywords.count) given)")
        }
    }
}

/// An int argument (bool counts), or Python's TypeError.
func intArgument(_ value: Value) throws -> Int {
    switch value {
    case .int(let number): return number
    case .bool(let flag): return flag ? 1 : 0
    case .undefined(let undefined): throw TemplateFailure.type(undefined.message)
    default: throw TemplateFailure.type("'\(pyTypeName(value))' object cannot be interpreted as an integer")
    }
}

/// A str argument, or Python's TypeError.
func stringArgument(_ value: Value, _ what: String = "argument") throws -> String {
    if case .string(let text) = value { return text }
    if case .undefined(let undefined) = value { throw TemplateFailure.type(undefined.message) }
    throw TemplateFailure.type("\(what) must be str, not \(pyTypeName(value))")
}

// MARK: - Globals

enum TemplateGlobals {
    static let names: Set<String> = ["raise_exception", "strftime_now", "namespace", "dict", "range", "cycler",
        "joiner", "lipsum"]

    static func value(named name: String) -> Value? { names.contains(name) ? .function(.global(name)) : nil }

    static func underscoreMessage(_ name: String) -> String {
        "Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(pyRepr(string: name)). "
            + "Please rename the attribute."
    }
}

extension TemplateRenderer {
    /// Calls a callable value.
    func call(_ callee: Value, _ arguments: CallArguments) throws -> Value {
        switch callee {
        case .undefined(let undefined): throw TemplateFailure.type(undefined.message)
        case .function(.global(let name)): return try callGlobal(name, arguments)
        case .function(.method(let receiver, let name)): return try callMethod(receiver, name, arguments)
        default: throw TemplateFailure.type("'\(pyTypeName(callee))' object is not callable")
        }
    }

    func callGlobal(_ name: String, _ arguments: CallArguments) throws -> Value {
        switch name {
        case "raise_exception", "strftime_now":
            // transformers' local functions, named as Python names them in its TypeErrors.
            let qualified = "_cached_compile_jinja_template.<locals>.\(name)()"
            let parameter = name == "raise_exception" ? "message" : "format"
            if arguments.positional.count > 1 {
                throw TemplateFailure.type(
                    "\(qualified) takes 1 positional argument but \(arguments.positional.count) were given")
            }
            let bound = try arguments.bind(qualified.dropLast(2).description, [parameter])
            guard let argument = bound[0] else {
                throw TemplateFailure.type("\(qualified) missing 1 required positional argument: '\(parameter)'")
            }
            if name == "raise_exception" { throw TemplateFailure(kind: .raised, message: try pyStr(argument)) }
            return .string(pyStrftime(try stringArgument(argument), now))
        case "namespace":
            let namespace = Namespace()
            namespace.attributes = try makeDict(arguments, function: "namespace")
            for key in namespace.attributes.keys {
                if case .string(let text) = key, text.hasPrefix("_") {
                    throw TemplateFailure.type(TemplateGlobals.underscoreMessage(text))
                }
            }
            try checkDepth(.namespace(namespace))
            return .namespace(namespace)
        case "dict":
            let dict = try makeDict(arguments, function: "dict")
            try checkDepth(.dict(dict))
            return .dict(dict)
        case "dict.fromkeys":
            let bound = try arguments.bind("fromkeys", ["iterable", "value"], required: 1)
            var dict = PyDict()
            for key in try iterate(bound[0] ?? .none) { try dict.set(key, bound[1] ?? .none) }
            return .dict(dict)
        case "range":
            return .list(try range(arguments))
        default:
            throw TemplateFailure.unsupported("the global function '\(name)'")
        }
    }

    /// `dict(mapping_or_pairs, **kwargs)`.
    private func makeDict(_ arguments: CallArguments, function: String) throws -> PyDict {
        guard arguments.positional.count <= 1 else {
            throw TemplateFailure.type("\(function) expected at most 1 argument, got \(arguments.positional.count)")
        }
        var dict = PyDict()
        if let source = arguments.positional.first {
            if case .dict(let other) = source {
                dict = other
            } else if case .namespace(let namespace) = source {
                dict = namespace.attributes
            } else {
                for (index, pair) in try iterate(source).enumerated() {
                    let items = (try? iterate(pair)) ?? []
                    guard items.count == 2 else {
                        throw TemplateFailure.type(
                            "dictionary update sequence element #\(index) has length \(items.count); 2 is required")
                    }
                    try dict.set(items[0], items[1])
                }
            }
        }
        for (name, value) in arguments.keywords { dict.set(name, value) }
        return dict
    }

    private func range(_ arguments: CallArguments) throws -> [Value] {
        if !arguments.keywords.isEmpty { throw TemplateFailure.type("range() takes no keyword arguments") }
        if arguments.positional.isEmpty { throw TemplateFailure.type("range expected at least 1 argument, got 0") }
        let numbers = try arguments.positional.map(intArgument)
        var start = 0
        var stop = 0
        var step = 1
        switch numbers.count {
        case 1: stop = numbers[0]
        case 2: (start, stop) = (numbers[0], numbers[1])
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw TemplateFailure.type("range expected at most 3 arguments, got \(numbers.count)")
        }
        if step == 0 { throw TemplateFailure.type("range() arg 3 must not be zero") }
        let (span, overflow) = step > 0 ? stop.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(stop)
        let stride = step > 0 ? step : (step == Int.min ? Int.max : -step)
        let count = overflow ? Int.max : (span <= 0 ? 0 : (span - 1) / stride + 1)
        if count > Limits.range {
            throw TemplateFailure.type(
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(Limits.range)).")
        }
        return (0..<count).map { .int(start + $0 * step) }
    }
}

// MARK: - strftime

/// C `strftime` for the directives chat templates use (C locale, local time zone); glibc's
/// `%-d` style flags drop the padding.
func pyStrftime(_ format: String, _ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone.current
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let year = parts.year ?? 1970
    let month = parts.month ?? 1
    let day = parts.day ?? 1
    let hour = parts.hour ?? 0
    let weekday = (parts.weekday ?? 1) - 1
    let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
    let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December"]
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    var result = ""
    var scalars = Array(format.unicodeScalars)[...]
    while let scalar = scalars.popFirst() {
        guard scalar == "%", var directive = scalars.popFirst() else {
            result.unicodeScalars.append(scalar)
            continue
        }
        var pad = true
        if directive == "-", let next = scalars.popFirst() {
            pad = false
            directive = next
        }
        func number(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return pad ? String(repeating: "0", count: max(0, width - text.count)) + text : text
        }
        switch directive {
        case "Y": result += String(year)
        case "y": result += number(year % 100, 2)
        case "m": result += number(month, 2)
        case "d": result += number(day, 2)
        case "e": result += pad ? (day < 10 ? " " : "") + String(day) : String(day)
        case "H": result += number(hour, 2)
        case "I": result += number(hour % 12 == 0 ? 12 : hour % 12, 2)
        case "M": result += number(parts.minute ?? 0, 2)
        case "S": result += number(parts.second ?? 0, 2)
        case "j": result += number(dayOfYear, 3)
        case "p": result += hour < 12 ? "AM" : "PM"
        case "B": result += months[(month - 1) % 12]
        case "b", "h": result += String(months[(month - 1) % 12].prefix(3))
        case "A": result += days[weekday % 7]
        case "a": result += String(days[weekday % 7].prefix(3))
        case "%": result += "%"
        default:
            result += "%" + (pad ? "" : "-")
            result.unicodeScalars.append(directive)
        }
    }
    return result
}
