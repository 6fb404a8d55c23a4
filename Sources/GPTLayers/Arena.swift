// A bump allocator for activations: every forward pass takes its outputs and saved records
// from an arena, and resetting the arena frees them all at once. Once the arena has seen the
// largest step it is one block, and a step allocates nothing.
import GPTKernelCore

/// A region of floats handed out by bumping a pointer; `reset()` frees everything.
///
/// Blocks are never moved, so pointers stay valid until the next reset. When a pass needs more
/// than the current block, another block is added; the next `reset()` replaces all blocks with
/// one of the high-water size.
public final class Arena {
    private var blocks: [(base: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private var blockIndex = 0
    private var used = 0
    private var totalUsed = 0
    /// The most floats ever in use at once.
    public private(set) var highWater = 0

    /// An arena with room for `capacity` floats to start with.
    public init(capacity: Int = 1 << 16) {
        addBlock(max(16, capacity))
    }

    deinit { blocks.forEach { AlignedMemory.deallocate($0.base) } }

    private func addBlock(_ capacity: Int) {
        blocks.append((AlignedMemory.allocateFloats(count: capacity), capacity))
    }

    /// The floats currently reserved by all blocks.
    public var capacity: Int { blocks.reduce(0) { $0 + $1.capacity } }

    /// `count` uninitialised floats, 64-byte aligned, valid until the next `reset`.
    public func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let rounded = (max(1, count) + 15) / 16 * 16
        if used + rounded > blocks[blockIndex].capacity {
            blockIndex += 1
            used = 0
            if blockIndex == blocks.count || blocks[blockIndex].capacity < rounded {
                // A new block here; blocks after it (from an earlier, larger pass) stay for reuse.
                let size = max(rounded, blocks[blockIndex - 1].capacity)
                blocks.insert((AlignedMemory.allocateFloats(count: size), size), at: blockIndex)
            }
        }
        let pointer = blocks[blockIndex].base + used
        used += rounded
        totalUsed += rounded
        highWater = max(highWater, totalUsed)
        return pointer
    }

    /// `count` floats set to zero.
    public func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = allocate(count)
        pointer.initialize(repeating: 0, count: count)
        return pointer
    }

    /// A position to return to with `reset(to:)`.
    public struct Mark: Sendable { fileprivate var block, used, total: Int }

    /// The current position.
    public func mark() -> Mark { Mark(block: blockIndex, used: used, total: totalUsed) }

    /// Frees everything allocated after `mark`.
    public func reset(to mark: Mark) {
        blockIndex = mark.block
        used = mark.used
        totalUsed = mark.total
    }

    /// Frees everything; if the last pass needed several blocks, merges them into one.
    public func reset() {
        if blocks.count > 1 {
            blocks.forEach { AlignedMemory.deallocate($0.base) }
            blocks = []
            addBlock(highWater)
        }
        blockIndex = 0
        used = 0
        totalUsed = 0
    }
}
