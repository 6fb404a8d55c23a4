// A parsed JSON value for configuration files, and typed reads of its keys with errors that
// name the file and the key.
import Foundation
import GPTTokenizers

/// A JSON value as it appears in a `config.json`.
public enum JSONConfigValue: Sendable, Hashable, Codable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number written without a fraction or exponent that fits an `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONConfigValue])
    /// An object.
    case object([String: JSONConfigValue])

    /// The value of a document parsed by the package's JSON scanner.
    package init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .integer(number)
        case .double(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(JSONConfigValue.init))
        case .object(let members): self = .object(members.mapValues(JSONConfigValue.init))
        }
    }

    /// Decodes any JSON value.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONConfigValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONConfigValue].self)) }
    }

    /// Encodes the value as JSON.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// Typed reads from a `config.json` object; every error names the file and the key.
public struct ConfigReader: Sendable {
    /// The object.
    public let json: [String: JSONConfigValue]
    /// The file name, for messages.
    public let file: String

    /// A reader over `json` from `file`.
    public init(_ json: [String: JSONConfigValue], file: String) {
        self.json = json
        self.file = file
    }

    func fail(_ key: String, _ problem: String) -> ModelError { .invalidConfiguration("\(file): '\(key)' \(problem)") }

    /// Whether `key` is present and not null.
    public func has(_ key: String) -> Bool {
        if let value = json[key], value != .null { return true }
        return false
    }

    /// An integer (a number with no fraction), or `fallback` when absent; nil fallback means required.
    public func integer(_ key: String, default fallback: Int? = nil) throws -> Int {
        switch json[key] {
        case .integer(let value)?: return value
        case .number(let value)? where value == value.rounded() && abs(value) < 0x1p62: return Int(value)
        case nil, .null?:
            guard let fallback else { throw fail(key, "is missing") }
            return fallback
        default: throw fail(key, "must be an integer")
        }
    }

    /// A number, or `fallback` when absent; nil fallback means required.
    public func number(_ key: String, default fallback: Double? = nil) throws -> Double {
        switch json[key] {
        case .integer(let value)?: return Double(value)
        case .number(let value)?: return value
        case nil, .null?:
            guard let fallback else { throw fail(key, "is missing") }
            return fallback
        default: throw fail(key, "must be a number")
        }
    }

    /// A Boolean, or `fallback` when absent.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch json[key] {
        case .bool(let value)?: return value
        case nil, .null?: return fallback
        default: throw fail(key, "must be true or false")
        }
    }

    /// A string, or `fallback` when absent; nil fallback means required.
    public func string(_ key: String, default fallback: String? = nil) throws -> String {
        switch json[key] {
        case .string(let value)?: return value
        case nil, .null?:
            guard let fallback else { throw fail(key, "is missing") }
            return fallback
        default: throw fail(key, "must be a string")
        }
    }
}
