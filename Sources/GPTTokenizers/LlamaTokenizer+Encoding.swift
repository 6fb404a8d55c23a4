// LlamaTokenizer+Encoding: run.c's `encode` (one token per UTF-8 character with byte fallback,
// a dummy-prefix space, then greedy merging of the adjacent pair whose merged piece has the
// highest score) and `decode` (strip the leading space of the piece after BOS, `<0xNN>` → byte).

// MARK: - Encoding

extension LlamaTokenizer {
    /// The score every merge must beat, as run.c's `best_score = -1e10`.
    static let minimumMergeScore = Float(-1e10)

    /// Returns the ids of `text` exactly as llama2.c run.c's `encode(text, bos, eos)`.
    ///
    /// A non-empty text starts with a dummy-prefix space (SentencePiece's `add_dummy_prefix`), so
    /// "Once" becomes the piece " Once". Characters without a piece become `<0xNN>` byte tokens.
    /// ```swift
    /// try tokenizer.encode("Once upon a time", bos: true, eos: false)  // [1, 403, 407, 261, 378]
    /// ```
    /// - Throws: ``TokenizerError/unencodableByte(_:)`` if a character has no piece and its
    ///   bytes have no `<0xNN>` piece.
    public func encode(_ text: String, bos: Bool, eos: Bool) throws -> [Int] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(text.utf8.count + 3)
        if bos { tokens.append(Int32(Self.beginTokenID)) }
        if !text.isEmpty {
            // The dummy prefix: run.c looks up " " like any other character.
            try appendCharacter(Array(" ".utf8)[...], to: &tokens)
        }
        var character: [UInt8] = []
        for scalar in text.unicodeScalars {
            character.removeAll(keepingCapacity: true)
            character.append(contentsOf: UTF8.encode(scalar)!)
            try appendCharacter(character[...], to: &tokens)
        }
        mergeByScore(&tokens)
        if eos { tokens.append(Int32(Self.endTokenID)) }
        return tokens.map { Int($0) }
    }

    /// Appends the piece of one character, or its bytes' fallback pieces.
    private func appendCharacter(_ character: ArraySlice<UInt8>, to tokens: inout [Int32]) throws {
        if let id = character.withUnsafeBufferPointer({ pieceIDs.value(for: $0) }) {
            tokens.append(id)
            return
        }
        for byte in character {
            let id = byteFallbackID[Int(byte)]
            guard id >= 0 else { throw TokenizerError.unencodableByte(byte) }
            tokens.append(id)
        }
    }

    /// run.c's merge loop: while some adjacent pair's concatenation is a piece, merge the pair
    /// whose piece has the highest score (the leftmost on ties) — the same merges in the same
    /// order as run.c, in O(n log n) rather than its O(n²): the tokens form a linked list, and
    /// every candidate pair waits in a min-heap keyed by (descending score, position); a popped
    /// key whose pair now scores differently is stale (its fresh key was pushed when it changed).
    func mergeByScore(_ tokens: inout [Int32]) {
        let n = tokens.count
        guard n > 1, n < Int(UInt32.max) else { return }
        var scratch: [UInt8] = []
        func mergedID(_ left: Int32, _ right: Int32) -> Int32 {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: piece(Int(left)))
            scratch.append(contentsOf: piece(Int(right)))
            return scratch.withUnsafeBufferPointer { pieceIDs.value(for: $0) } ?? -1
        }
        var next = Array(1...n), previous = Array(-1..<(n - 1))  // n and -1: no neighbour; next -2: removed
        /// The pair starting at `left` and its heap key, if its concatenation is a piece that beats
        /// run.c's initial best score.
        func candidate(_ left: Int) -> (merged: Int32, key: UInt64)? {
            guard left >= 0, next[left] >= 0, next[left] < n else { return nil }
            let id = mergedID(tokens[left], tokens[next[left]])
            guard id >= 0, scores[Int(id)] > Self.minimumMergeScore else { return nil }
            // Float bits made to sort as the float does, then inverted: higher scores come first.
            let bits = scores[Int(id)].bitPattern
            let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            return (id, UInt64(~ascending) << 32 | UInt64(left))
        }
        var heap = MinHeap()
        for left in 0..<(n - 1) { if let found = candidate(left) { heap.push(found.key) } }
        while let key = heap.pop() {
            let left = Int(key & 0xFFFF_FFFF)
            guard let current = candidate(left), current.key == key else { continue }  // stale
            let right = next[left]
            tokens[left] = current.merged
            next[left] = next[right]
            if next[right] < n { previous[next[right]] = left }
            next[right] = -2
            if let found = candidate(left) { heap.push(found.key) }
            if previous[left] >= 0, let found = candidate(previous[left]) { heap.push(found.key) }
        }
        var merged: [Int32] = []
        merged.reserveCapacity(n)
        var index = 0
        while index < n {
            merged.append(tokens[index])
            index = next[index]
        }
        tokens = merged
    }
}

// MARK: - Decoding

extension LlamaTokenizer {
    /// Returns the text of `ids` as run.c prints them: the piece after BOS loses its leading
    /// space, `<0xNN>` pieces become raw bytes. BOS and EOS produce no text (run.c stops at BOS;
    /// their exported pieces are markers, not text). Invalid UTF-8 becomes U+FFFD.
    /// - Throws: ``TokenizerError/unknownTokenID(_:vocabularySize:)``.
    public func decode(_ ids: [Int]) throws -> String {
        var bytes: [UInt8] = []
        var previous: Int?
        for id in ids {
            try appendBytes(of: id, after: previous, to: &bytes)
            previous = id
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Returns a decoder that emits text as soon as its UTF-8 is complete (e.g. a character
    /// spelled by several `<0xNN>` tokens).
    public func makeStreamingDecoder() -> StreamingDecoder {
        let tokenizer = self
        return StreamingDecoder { id, previous in
            var bytes: [UInt8] = []
            try tokenizer.appendBytes(of: id, after: previous, to: &bytes)
            return bytes
        }
    }

    /// Appends the bytes run.c's `decode(previous, id)` returns for `id`.
    func appendBytes(of id: Int, after previous: Int?, to bytes: inout [UInt8]) throws {
        try validate(id)
        if id == Self.beginTokenID || id == Self.endTokenID { return }
        if rawByte[id] >= 0 {
            bytes.append(UInt8(rawByte[id]))
            return
        }
        var text = piece(id)
        if previous == Self.beginTokenID, text.first == UInt8(ascii: " ") { text = text.dropFirst() }
        bytes.append(contentsOf: text)
    }
}
