// The position-wise feed-forward network: GPT-2's GELU MLP or Llama's SwiGLU.
import GPTTensor

/// Which feed-forward network a model uses.
public enum FeedForwardKind: String, Sendable, Hashable, Codable {
    /// GPT-2: `c_proj(gelu_tanh(c_fc(x)))`.
    case gelu
    /// Llama: `w2(silu(w1 x) ⊙ w3 x)`.
    case swiGLU
}

/// The parameter names of a feed-forward network (full prefixes, without `.weight`/`.bias`),
/// and the order they are registered in (which fixes the order of random initialisation).
public struct FeedForwardNames: Sendable, Hashable {
    /// The up projection C → H (GELU: `c_fc`; SwiGLU: `up_proj`, llama2.c's `w3`).
    public var up: String
    /// SwiGLU's gate projection C → H, the one `silu` is applied to (`gate_proj`, llama2.c's `w1`).
    public var gate: String
    /// The down projection H → C (`c_proj`, `down_proj`, llama2.c's `w2`).
    public var down: String
    /// Whether the down projection is registered before the up projection (GPT-2's `w1, w2, w3`).
    public var registersDownFirst: Bool

    /// Names from their parts.
    public init(up: String, gate: String, down: String, registersDownFirst: Bool = false) {
        self.up = up
        self.gate = gate
        self.down = down
        self.registersDownFirst = registersDownFirst
    }

    /// GPTKit's GPT-2 family names under `prefix` (e.g. `h.0.mlp`): `c_fc`/`c_proj` for GELU,
    /// `w1` (gate), `w2` (down), `w3` (up) for SwiGLU, registered in that order.
    public static func gpt2(_ prefix: String, kind: FeedForwardKind) -> FeedForwardNames {
        kind == .gelu
            ? FeedForwardNames(up: "\(prefix).c_fc", gate: "\(prefix).w1", down: "\(prefix).c_proj")
            : FeedForwardNames(up: "\(prefix).w3", gate: "\(prefix).w1", down: "\(prefix).w2", registersDownFirst: true)
    }

    /// Hugging Face Llama names under `prefix` (e.g. `model.layers.0.mlp`): `gate_proj`,
    /// `up_proj`, `down_proj`.
    public static func llama(_ prefix: String) -> FeedForwardNames {
        FeedForwardNames(up: "\(prefix).up_proj", gate: "\(prefix).gate_proj", down: "\(prefix).down_proj")
    }
}

/// The feed-forward network of a Transformer block.
///
/// GELU: `up` (C → H, bias), GELU (tanh form, `F.gelu(approximate="tanh")`), `down` (H → C,
/// bias). SwiGLU (Llama): `down(silu(gate x) ⊙ up x)`, biases optional.
public struct FeedForward: Sendable, Hashable {
    /// GELU MLP or SwiGLU.
    public let kind: FeedForwardKind
    /// C, the model width.
    public let dimensions: Int
    /// H, the hidden width.
    public let hiddenSize: Int
    /// The up projection C → H (`c_fc`, `up_proj`).
    public internal(set) var up: Linear
    /// SwiGLU only: the gate projection C → H (`gate_proj`), the one `silu` is applied to.
    public internal(set) var gate: Linear?
    /// The down projection H → C (`c_proj`, `down_proj`).
    public internal(set) var down: Linear

    /// What `forward` keeps for `backward`.
    public struct Saved {
        /// The input `[rows, C]` (owned by the caller).
        public let input: UnsafePointer<Float>
        /// The output `[rows, C]`.
        public let output: UnsafeMutablePointer<Float>
        /// The pre-activation `[rows, H]` (GELU: `up`'s output; SwiGLU: `gate`'s), SwiGLU's `up`
        /// output, and the activation fed to the down projection.
        let hidden: UnsafeMutablePointer<Float>, upValues: UnsafeMutablePointer<Float>?, activated: UnsafeMutablePointer<Float>
        /// The number of rows.
        public let rows: Int
        /// The adapters' input dropout of the pass, if any.
        let adapterDropout: Dropout?
    }

    /// Registers the projections under GPTKit's GPT-2 family names (`FeedForwardNames.gpt2`).
    public init(kind: FeedForwardKind, dimensions: Int, hiddenSize: Int, bias: Bool, name: String, layout: inout ParameterLayout) {
        self.init(kind: kind, dimensions: dimensions, hiddenSize: hiddenSize, bias: bias, names: .gpt2(name, kind: kind), layout: &layout)
    }

    /// Registers the projections under `names`.
    public init(kind: FeedForwardKind, dimensions: Int, hiddenSize: Int, bias: Bool, names: FeedForwardNames,
                layout: inout ParameterLayout) {
        self.kind = kind
        self.dimensions = dimensions
        self.hiddenSize = hiddenSize
        switch kind {
        case .gelu:
            up = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: names.up, layout: &layout)
            gate = nil
            down = Linear(inputSize: hiddenSize, outputSize: dimensions, bias: bias, name: names.down, layout: &layout)
        case .swiGLU:
            gate = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: names.gate, layout: &layout)
            if names.registersDownFirst {
                down = Linear(inputSize: hiddenSize, outputSize: dimensions, bias: bias, name: names.down, layout: &layout)
                up = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: names.up, layout: &layout)
            } else {
                up = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: names.up, layout: &layout)
                down = Linear(inputSize: hiddenSize, outputSize: dimensions, bias: bias, name: names.down, layout: &layout)
            }
        }
    }

    /// Applies the network to `rows` rows of `x`.
    /// `adapterDropout` drops the input of the projections' adapters (training only).
    public func forward(_ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, arena: Arena, adapterDropout: Dropout? = nil) -> Saved {
        let n = rows * hiddenSize
        let hidden = arena.allocate(n), activated = arena.allocate(n)
        var upValues: UnsafeMutablePointer<Float>?
        switch kind {
        case .gelu:
            up.forward(x, rows: rows, weights: weights, into: hidden, adapterDropout: adapterDropout)
            Kernels.geluForward(hidden, into: activated, count: n)
        case .swiGLU:
            let u = arena.allocate(n)
            let gateMatrix = weights.matrix(gate!.weight), upMatrix = weights.matrix(up.weight)
            if gateMatrix.format != .float32, WeightMatrix.sharesDispatch([gateMatrix, upMatrix], rows: rows) {
                // Decoding stored-format matrices: gate and up in one dispatch.
                WeightMatrix.multiply([gateMatrix, upMatrix], biases: [gate!.bias.map(weights.vector), up.bias.map(weights.vector)], x, rows: rows,
                                      into: [hidden, u], strides: [hiddenSize, hiddenSize])
                gate!.addAdapterOutput(x, rows: rows, weights: weights, into: hidden, dropout: adapterDropout)
                up.addAdapterOutput(x, rows: rows, weights: weights, into: u, dropout: adapterDropout)
            } else {
                gate!.forward(x, rows: rows, weights: weights, into: hidden, adapterDropout: adapterDropout)
                up.forward(x, rows: rows, weights: weights, into: u, adapterDropout: adapterDropout)
            }
            Kernels.siluForward(hidden, into: activated, count: n)
            Kernels.multiply(activated, u, into: activated, count: n)
            upValues = u
        }
        let output = arena.allocate(rows * dimensions)
        down.forward(activated, rows: rows, weights: weights, into: output, adapterDropout: adapterDropout)
        return Saved(input: x, output: output, hidden: hidden, upValues: upValues, activated: activated, rows: rows,
                     adapterDropout: adapterDropout)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, weights: WeightStore, gradients: GradientBuffer, arena: Arena,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let rows = saved.rows, n = rows * hiddenSize
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let dActivated = arena.allocate(n), dHidden = arena.allocate(n)
        down.backward(outputGradient: dy, input: saved.activated, rows: rows, weights: weights, gradients: gradients,
                      inputGradient: dActivated, adapterDropout: saved.adapterDropout)
        switch kind {
        case .gelu:
            Kernels.geluBackward(x: saved.hidden, dy: dActivated, dx: dHidden, count: n)
            up.backward(outputGradient: dHidden, input: saved.input, rows: rows, weights: weights, gradients: gradients,
                        inputGradient: dx, accumulateInput: accumulateInput, adapterDropout: saved.adapterDropout)
        case .swiGLU:
            // a = silu(g) ⊙ u: du = da ⊙ silu(g), dg = (da ⊙ u) ⊙ silu′(g).
            let u = saved.upValues!
            let dUp = arena.allocate(n), silu = arena.allocate(n)
            Kernels.siluForward(saved.hidden, into: silu, count: n)
            Kernels.multiply(dActivated, silu, into: dUp, count: n)
            Kernels.multiply(dActivated, u, into: dActivated, count: n)
            Kernels.siluBackward(x: saved.hidden, dy: dActivated, dx: dHidden, count: n)
            gate!.backward(outputGradient: dHidden, input: saved.input, rows: rows, weights: weights, gradients: gradients,
                           inputGradient: dx, accumulateInput: accumulateInput, adapterDropout: saved.adapterDropout)
            up.backward(outputGradient: dUp, input: saved.input, rows: rows, weights: weights, gradients: gradients,
                        inputGradient: dx, accumulateInput: true, adapterDropout: saved.adapterDropout)
        }
    }
}

extension FeedForward {
    /// Attaches (or, returning nil, removes) an adapter on each projection: `make` sees each
    /// projection as it is.
    public mutating func attachAdapters(_ make: (Linear) throws -> LinearAdapter?) rethrows {
        if let existing = gate { gate!.adapter = try make(existing) }
        up.adapter = try make(up)
        down.adapter = try make(down)
    }
}
