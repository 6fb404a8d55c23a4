// Inverted dropout with counter-based masks: element i of a call seeded `seed` is kept when
// the SplitMix64 hash of (seed, i) falls at or above the rate, and then scaled by 1/(1 − rate).
// The mask is a pure function of (seed, i): no state to save, identical for any thread count,
// and the backward pass regenerates it instead of storing it.
import GPTKernelCore
// `Dropout` and `AttentionShape` live with the kernels that use them (GPTKernelCore, compiled
// per instruction set) and are part of GPTTensor's API.
@_exported import struct GPTKernelCore.Dropout
@_exported import struct GPTKernelCore.AttentionShape

extension Kernels {
    /// `y[i] = keep(i) ? x[i] / (1 − rate) : 0` for `count` elements, element i of the mask being
    /// element `offset + i` of the site (`y` may alias `x`). The backward pass is the same call
    /// on the output gradient.
    public static func dropout(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, _ dropout: Dropout, offset: Int = 0) {
        let scale = 1 / (1 - dropout.rate)
        forEachRange(count, grain: elementwiseParallelThreshold / 4) { range in
            for i in range { y[i] = dropout.keeps(offset &+ i) ? x[i] * scale : 0 }
        }
    }
}
