// Choosing, once per process, the kernel set compiled for the widest instruction set this CPU
// and operating system support.
import Foundation
import GPTKernelCore
import GPTKernelsAVX2
import GPTKernelsAVX512
import GPTKernelsPortable

/// The instruction sets GPTKit has kernels for.
public enum InstructionSet: String, Sendable, CaseIterable {
    /// The compiler's default target (SSE2 on x86-64, NEON on arm64).
    case portable
    /// x86-64-v3: AVX2 and FMA.
    case avx2
    /// x86-64-v4: AVX-512 F/BW/DQ/VL.
    case avx512

    /// Whether this CPU and operating system can run kernels built for this instruction set.
    public var isSupported: Bool {
        switch self {
        case .portable: return true
        case .avx2: return CPUFeatures.detected.contains("avx2") && CPUFeatures.detected.contains("fma")
        case .avx512:
            return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(CPUFeatures.detected.contains)
                && InstructionSet.avx2.isSupported
        }
    }

    /// The best instruction set supported here. The environment variable `GPTKIT_KERNELS`
    /// (`portable`, `avx2` or `avx512`) may select a lower one, for benchmarks and tests.
    public static let best: InstructionSet = {
        #if arch(x86_64)
        let widest: InstructionSet = InstructionSet.avx512.isSupported ? .avx512
            : (InstructionSet.avx2.isSupported ? .avx2 : .portable)
        #else
        let widest: InstructionSet = .portable
        #endif
        if let requested = ProcessInfo.processInfo.environment["GPTKIT_KERNELS"].flatMap(InstructionSet.init),
           requested.isSupported {
            return requested
        }
        return widest
    }()

    /// The kernel set built for this instruction set.
    public var kernels: any KernelSet.Type {
        switch self {
        case .portable: return PortableKernels.self
        case .avx2: return AVX2Kernels.self
        case .avx512: return AVX512Kernels.self
        }
    }
}

/// CPU feature flags as the operating system reports them (it hides the ones it does not
/// enable, such as AVX-512 state on kernels that do not save it).
enum CPUFeatures {
    static let detected: Set<String> = {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        #elseif os(macOS) && arch(x86_64)
        var flags: Set<String> = []
        let names = ["avx2_0": "avx2", "fma": "fma", "avx512f": "avx512f", "avx512bw": "avx512bw",
                     "avx512dq": "avx512dq", "avx512vl": "avx512vl"]
        for (sysctlName, flag) in names {
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            if sysctlbyname("hw.optional." + sysctlName, &value, &size, nil, 0) == 0, value != 0 {
                flags.insert(flag)
            }
        }
        return flags
        #else
        return []
        #endif
    }()
}

/// Thread count and work splitting of every parallel kernel (see `GPTKernelCore.Parallel`).
public typealias Parallel = GPTKernelCore.Parallel
