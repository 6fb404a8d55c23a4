import GPTTensor
import XCTest

final class CachedAttentionKernelTests: XCTestCase {
    /// The blocked path (a prompt) equals the row-by-row path (one query per call).
    func testBlockedEqualsRowByRow() {
        check(heads: 4, kvHeads: 2, hs: 8, past: 5, new: 11)
        check(heads: 2, kvHeads: 1, hs: 4, past: 0, new: 150)  // several chunks
    }

    func check(heads: Int, kvHeads: Int, hs: Int, past: Int, new: Int) {
        let total = past + new, kvWidth = kvHeads * hs, qWidth = heads * hs
        let q = randomArray(new * qWidth, seed: 1), keys = randomArray(total * kvWidth, seed: 2), values = randomArray(total * kvWidth, seed: 3)
        var blocked = [Float](repeating: .nan, count: new * qWidth), rows = blocked
        var scratch = [Float](repeating: 0, count: heads * total)
        XCTAssertGreaterThanOrEqual(new, Kernels.cachedAttentionBlockThreshold)
        Kernels.cachedAttention(q: q, qStride: qWidth, keys: keys, values: values, cacheStride: kvWidth, newTokens: new, pastLength: past,
                                heads: heads, keyValueHeads: kvHeads, headSize: hs, out: &blocked, outStride: qWidth, scratch: &scratch)
        q.withUnsafeBufferPointer { qp in
            rows.withUnsafeMutableBufferPointer { out in
                for i in 0..<new {
                    Kernels.cachedAttention(q: qp.baseAddress! + i * qWidth, qStride: qWidth, keys: keys, values: values, cacheStride: kvWidth,
                                            newTokens: 1, pastLength: past + i, heads: heads, keyValueHeads: kvHeads, headSize: hs,
                                            out: out.baseAddress! + i * qWidth, outStride: qWidth, scratch: &scratch)
                }
            }
        }
        assertClose(blocked, rows, rtol: 1e-5, atol: 1e-6)
    }
}
