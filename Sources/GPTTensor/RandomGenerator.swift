// A seeded, portable random number generator: xoshiro256** seeded through SplitMix64.
import Foundation

/// A seeded pseudo-random generator: xoshiro256** (Blackman & Vigna, 2018), its state seeded
/// from a 64-bit seed with SplitMix64.
///
/// The integer and uniform streams are identical on every platform for the same seed. Normal
/// samples use the Marsaglia polar method in `Double` (exact `sqrt`, libm's `log`) rounded to
/// `Float`, which in practice is also identical across platforms.
///
/// ```swift
/// var generator = RandomGenerator(seed: 42)
/// let weights = Tensor(randomNormal: [4, 4], standardDeviation: 0.02, generator: &generator)
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The four 64-bit words of state; saving and restoring them resumes the stream exactly.
    public var state: (UInt64, UInt64, UInt64, UInt64) {
        get { (s0, s1, s2, s3) }
        set { (s0, s1, s2, s3) = newValue }
    }
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// A second normal sample from the last polar-method draw, returned next.
    private var spareNormal: Float?

    /// A generator whose stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform `Float` in `[0, 1)` with 24 random bits.
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal sample (mean 0, variance 1).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        while true {
            let u = 2 * nextDouble() - 1, v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let factor = (-2 * Foundation.log(s) / s).squareRoot()
                spareNormal = Float(v * factor)
                return Float(u * factor)
            }
        }
    }

    // MARK: - Hashable, Codable (the tuple state is not automatically either)

    public static func == (lhs: RandomGenerator, rhs: RandomGenerator) -> Bool {
        lhs.s0 == rhs.s0 && lhs.s1 == rhs.s1 && lhs.s2 == rhs.s2 && lhs.s3 == rhs.s3
            && lhs.spareNormal == rhs.spareNormal
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(s0); hasher.combine(s1); hasher.combine(s2); hasher.combine(s3)
    }

    private enum CodingKeys: String, CodingKey { case state, spareNormal }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let words = try container.decode([UInt64].self, forKey: .state)
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .state, in: container, debugDescription: "expected 4 state words, not all zero")
        }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
        spareNormal = try container.decodeIfPresent(Float.self, forKey: .spareNormal)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode([s0, s1, s2, s3], forKey: .state)
        try container.encodeIfPresent(spareNormal, forKey: .spareNormal)
    }
}
