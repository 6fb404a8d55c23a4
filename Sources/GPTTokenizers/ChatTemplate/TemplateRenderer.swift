// TemplateRenderer: executes the statements of a parsed template against a context.
// Legend: scopes = a stack of variable frames (the context at the bottom; each for-loop
// iteration and `with` block pushes one, so `set` inside a loop does not leak out, as in
// jinja2); buffers = output stack (block `set` and `filter` capture into a new one); Flow =
// how a statement list ended (break/continue). Expressions are in TemplateRenderer+Expressions.swift.

import Foundation

// MARK: - Renderer

/// One render of one template. Not shared: created and used inside `ChatTemplate.render`.
final class TemplateRenderer {
    var scopes: [[String: Value]]
    var buffers: [String] = [""]
    var outputBytes = 0
    var iterations = 0
    let now: Date

    enum Flow { case normal, breakLoop, continueLoop }

    init(context: [String: Value], now: Date) {
        scopes = [context]
        self.now = now
    }

    /// Renders `body` and returns the text.
    func render(_ body: [Stmt]) throws -> String {
        _ = try execute(body)
        return buffers.last ?? ""
    }

    // MARK: - Output

    func write(_ text: String, line: Int) throws {
        outputBytes += text.utf8.count
        guard outputBytes <= Limits.outputBytes else {
            throw ChatTemplateError.runtime(line: line, message: "the output exceeds \(Limits.outputBytes) bytes")
        }
        buffers[buffers.count - 1] += text
    }

    /// Runs `body` into a fresh buffer and returns what it wrote.
    func capture(_ body: [Stmt]) throws -> (String, Flow) {
        buffers.append("")
        defer { buffers.removeLast() }
        let flow = try execute(body)
        return (buffers.last ?? "", flow)
    }

    // MARK: - Variables

    func lookup(_ name: String) -> Value {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        if let global = TemplateGlobals.value(named: name) { return global }
        return .undefined(.named(name))
    }

    func bind(_ target: Target, to value: Value, line: Int) throws {
        switch target {
        case .name(let name):
            scopes[scopes.count - 1][name] = value
        case .tuple(let targets):
            let items = try unpack(value, count: targets.count, line: line)
            for (target, item) in zip(targets, items) { try bind(target, to: item, line: line) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace) = lookup(name) else {
                throw ChatTemplateError.runtime(line: line, message: "cannot assign attribute on non-namespace object")
            }
            if attribute.hasPrefix("_") {
                throw ChatTemplateError.runtime(line: line, message: TemplateGlobals.underscoreMessage(attribute))
            }
            do { try checkDepth(value) } catch let failure as TemplateFailure { throw failure.error(line: line) }
            namespace.attributes.set(attribute, value)
        }
    }

    /// Python's tuple unpacking of `value` into `count` names.
    func unpack(_ value: Value, count: Int, line: Int) throws -> [Value] {
        let items: [Value]
        do {
            items = try iterate(value, unpacking: true)
        } catch let failure as TemplateFailure {
            throw failure.error(line: line)
        }
        if items.count < count {
            throw ChatTemplateError.runtime(
                line: line, message: "not enough values to unpack (expected \(count), got \(items.count))")
        }
        if items.count > count {
            throw ChatTemplateError.runtime(line: line, message: "too many values to unpack (expected \(count))")
        }
        return items
    }

    // MARK: - Statements

    func execute(_ body: [Stmt]) throws -> Flow {
        for statement in body {
            let flow = try execute(statement)
            if flow != .normal { return flow }
        }
        return .normal
    }

    func execute(_ statement: Stmt) throws -> Flow {
        switch statement {
        case .data(let text):
            try write(text, line: 0)
        case .output(let expression):
            let value = try evaluate(expression)
            try write(try guarded(expression.line) { try pyStr(value) }, line: expression.line)
        case .conditional(let branches, let otherwise):
            for branch in branches where pyTruthy(try evaluate(branch.test)) { return try execute(branch.body) }
            return try execute(otherwise)
        case .forLoop(let loop):
            return try executeFor(loop)
        case .assign(let target, let expression, let line):
            let value = try evaluate(expression)
            try bind(target, to: value, line: line)
        case .assignBlock(let target, let filters, let body, let line):
            let (text, flow) = try capture(body)
            try bind(target, to: try applyFilters(filters, to: .string(text)), line: line)
            return flow
        case .filterBlock(let filters, let body, let line):
            let (text, flow) = try capture(body)
            let value = try applyFilters(filters, to: .string(text))
            try write(try guarded(line) { try pyStr(value) }, line: line)
            return flow
        case .with(let assignments, let body, let line):
            let values = try assignments.map { try evaluate($0.value) }
            scopes.append([:])
            defer { scopes.removeLast() }
            for (assignment, value) in zip(assignments, values) { try bind(assignment.target, to: value, line: line) }
            return try execute(body)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .generation(let body):
            return try execute(body)
        }
        return .normal
    }

    func applyFilters(_ filters: [FilterCall], to start: Value) throws -> Value {
        var value = start
        for filter in filters {
            let arguments = try evaluate(filter.arguments)
            value = try guarded(filter.line) { try self.applyFilter(filter.name, value, arguments) }
        }
        return value
    }

    func executeFor(_ loop: ForLoop) throws -> Flow {
        let iterable = try evaluate(loop.iterable)
        var items = try guarded(loop.line) { try self.iterate(iterable) }
        if let condition = loop.condition {
            var kept: [Value] = []
            for item in items {
                scopes.append([:])
                defer { scopes.removeLast() }
                try bind(loop.target, to: item, line: loop.line)
                if pyTruthy(try evaluate(condition)) { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            scopes.append([:])
            defer { scopes.removeLast() }
            _ = try execute(loop.elseBody)
            return .normal
        }
        let context = LoopContext(items: items, index0: 0, depth0: 0)
        for index in items.indices {
            iterations += 1
            guard iterations <= Limits.loopIterations else {
                throw ChatTemplateError.runtime(line: loop.line, message: "more than \(Limits.loopIterations) loop iterations")
            }
            context.index0 = index
            scopes.append(["loop": .loop(context)])
            defer { scopes.removeLast() }
            try bind(loop.target, to: items[index], line: loop.line)
            if try execute(loop.body) == .breakLoop { break }
        }
        return .normal
    }

    /// Runs `body`, turning a TemplateFailure into the public error at `line`.
    func guarded<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as TemplateFailure {
            throw failure.error(line: line)
        }
    }
}
