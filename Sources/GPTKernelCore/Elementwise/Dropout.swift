// Counter-based dropout masks: element i of a site seeded `seed` is kept when the SplitMix64
// hash of (seed, i) falls at or above the rate. A pure function of (seed, i): no state to save,
// identical for any thread count, and the backward pass regenerates it instead of storing it.

/// The dropout of one site in one pass: a rate and the seed its mask is drawn from.
public struct Dropout: Sendable, Hashable {
    /// The probability of zeroing an element, in [0, 1).
    public var rate: Float
    /// The seed of the mask.
    public var seed: UInt64

    /// A dropout with this rate and seed.
    public init(rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1, "Dropout: rate \(rate) outside [0, 1)")
        self.rate = rate
        self.seed = seed
    }

    /// The dropout of a sub-site (another layer, another tensor) of this pass: same rate, a seed
    /// mixed with `index`.
    public func site(_ index: UInt64) -> Dropout {
        Dropout(rate: rate, seed: Dropout.mix(seed ^ (index &* 0x9E37_79B9_7F4A_7C15)))
    }

    @usableFromInline
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Whether element `index` is kept.
    @inlinable @inline(__always)
    public func keeps(_ index: Int) -> Bool {
        let bits = Dropout.mix(seed &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03)
        return Float(bits >> 40) * 0x1p-24 >= rate
    }
}
