// Hand-written argument parsing for `gpt` (no package dependencies): `--name value` options,
// `--flag` switches, and a clear error for anything else.
import Foundation

/// A bad command line: printed with the subcommand's usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The options of one subcommand, parsed against the names it declares.
struct Arguments {
    private var values: [String: String] = [:]
    private var allValues: [String: [String]] = [:]
    private var flags: Set<String> = []
    private(set) var helpRequested = false

    /// Parses `arguments`; `options` take a value, `switches` do not.
    init(_ arguments: [String], options: Set<String>, switches: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-h" || argument == "--help" {
                helpRequested = true
                index += 1
                continue
            }
            guard argument.hasPrefix("--") else { throw UsageError(message: "unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if switches.contains(name) {
                guard inlineValue == nil else { throw UsageError(message: "--\(name) takes no value") }
                flags.insert(name)
                index += 1
            } else if options.contains(name) {
                if let inlineValue {
                    values[name] = inlineValue
                    index += 1
                } else {
                    guard index + 1 < arguments.count else { throw UsageError(message: "--\(name) needs a value") }
                    values[name] = arguments[index + 1]
                    index += 2
                }
                allValues[name, default: []].append(values[name]!)
            } else {
                throw UsageError(message: "unknown option '--\(name)'")
            }
        }
    }

    func has(_ name: String) -> Bool { flags.contains(name) }
    func string(_ name: String) -> String? { values[name] }
    /// Every value of an option given more than once (`--references A --references B`), in order.
    func strings(_ name: String) -> [String] { allValues[name] ?? [] }

    func integer(_ name: String, default value: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(message: "--\(name) expects an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : "\(range.upperBound)"), got '\(text)'")
        }
        return number
    }

    func optionalInteger(_ name: String, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        values[name] == nil ? nil : try integer(name, default: 0, range: range)
    }

    func float(_ name: String, default value: Float, range: ClosedRange<Float> = 0...Float.greatestFiniteMagnitude) throws -> Float {
        guard let text = values[name] else { return value }
        guard let number = Float(text), number.isFinite, range.contains(number) else {
            throw UsageError(message: "--\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// A `Double` option (parsed as a Double: a metric's parameter must not lose digits), or nil.
    func optionalDouble(_ name: String) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let number = Double(text), number.isFinite else { throw UsageError(message: "--\(name) expects a number, got '\(text)'") }
        return number
    }

    func optionalFloat(_ name: String, range: ClosedRange<Float> = 0...Float.greatestFiniteMagnitude) throws -> Float? {
        values[name] == nil ? nil : try float(name, default: 0, range: range)
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
