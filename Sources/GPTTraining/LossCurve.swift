// A loss curve as a standalone SVG: train and validation loss against step.
import Foundation
import GPTFiles

/// Train and validation losses by step, drawn as an SVG line chart.
///
/// ```swift
/// var curve = LossCurve()
/// curve.train.append((step: 10, loss: 2.3))
/// try curve.write(to: outputDirectory.appendingPathComponent("loss.svg"))
/// ```
public struct LossCurve: Sendable {
    /// (step, loss) of the training batches.
    public var train: [(step: Int, loss: Float)] = []
    /// (step, loss) of the validation evaluations.
    public var validation: [(step: Int, loss: Float)] = []
    /// The chart's title.
    public var title: String

    /// An empty curve.
    public init(title: String = "Loss") { self.title = title }

    /// The chart as SVG text (800 × 480, axes with ticks, a legend). Non-finite losses are skipped.
    public func svg() -> String {
        let width = 800.0, height = 480.0, left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let points = (train + validation).filter { $0.loss.isFinite }
        let maxStep = Double(max(1, points.map(\.step).max() ?? 1))
        // Start the axis at 0 when the run does (step 1), so the ticks fall on round numbers.
        let firstStep = points.map(\.step).min() ?? 0
        let minStep = Double(min(firstStep <= 1 ? 0 : firstStep, Int(maxStep) - 1))
        var low = Double(points.map(\.loss).min() ?? 0), high = Double(points.map(\.loss).max() ?? 1)
        if high - low < 1e-6 { low -= 0.5; high += 0.5 }
        let pad = (high - low) * 0.05
        low -= pad; high += pad
        func x(_ step: Int) -> Double { left + (Double(step) - minStep) / (maxStep - minStep) * (width - left - right) }
        func y(_ loss: Float) -> Double { top + (high - Double(loss)) / (high - low) * (height - top - bottom) }
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(format(width / 2))" y="24" text-anchor="middle" font-size="16">\(escape(title))</text>
        <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>

        """
        for i in 0...5 {
            let value = low + (high - low) * Double(i) / 5
            let ty = top + (high - value) / (high - low) * (height - top - bottom)
            svg += "<line x1=\"\(left - 5)\" y1=\"\(format(ty))\" x2=\"\(width - right)\" y2=\"\(format(ty))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(format(ty + 4))\" text-anchor=\"end\">\(String(format: "%.2f", value))</text>\n"
            let step = Int((minStep + (maxStep - minStep) * Double(i) / 5).rounded())
            svg += "<text x=\"\(format(x(step)))\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(step)</text>\n"
        }
        svg += "<text x=\"\(format(width / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\">step</text>\n"
        svg += "<text x=\"18\" y=\"\(format(height / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(format(height / 2)))\">loss</text>\n"
        for (series, color, label, row) in [(train, "#1f77b4", "train", 0), (validation, "#d62728", "validation", 1)] {
            let finite = series.filter { $0.loss.isFinite }
            guard !finite.isEmpty else { continue }
            let path = finite.map { "\(format(x($0.step))),\(format(y($0.loss)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            if finite.count == 1 { svg += "<circle cx=\"\(format(x(finite[0].step)))\" cy=\"\(format(y(finite[0].loss)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            let ly = top + 10 + Double(row) * 18
            svg += "<line x1=\"\(width - 150)\" y1=\"\(ly)\" x2=\"\(width - 125)\" y2=\"\(ly)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(width - 118)\" y=\"\(ly + 4)\">\(label)</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Writes `svg()` to `url` atomically.
    public func write(to url: URL) throws {
        do { try Data(svg().utf8).write(to: url, options: .atomic) } catch {
            throw TrainingError.io("cannot write \(url.path): \(Files.reason(for: error))")
        }
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
