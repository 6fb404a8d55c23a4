// The training progress line: redrawn in place on a terminal, plain lines otherwise.
import Foundation
import GPTKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ProgressDisplay {
    let isTerminal = isatty(STDOUT_FILENO) != 0
    private var lastPrinted = -1.0

    func show(_ progress: TrainingProgress, validationLoss: Float?) {
        let line = String(format: "step %d/%d  loss %.4f  val %@  lr %.2e  grad %.2f  %.0f tok/s  ETA %@",
                          progress.step, progress.totalSteps, progress.loss, validationLoss.map { String(format: "%.4f", $0) } ?? "-",
                          progress.learningRate, progress.gradientNorm, progress.tokensPerSecond, Self.duration(progress.remaining))
        if isTerminal {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
        } else if progress.validationLoss != nil || progress.step == 1 || progress.step == progress.totalSteps
                    || progress.elapsed - lastPrinted >= 10 {
            // Every evaluation, and at least every 10 s.
            print(line)
            fflush(nil)  // stdout to a file or pipe is block-buffered: show progress as it happens
            lastPrinted = progress.elapsed
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%dh%02dm", total / 3600, total % 3600 / 60) : String(format: "%dm%02ds", total / 60, total % 60)
    }
}
