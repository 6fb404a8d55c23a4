// The position-wise feed-forward network: GPT-2's GELU MLP or Llama's SwiGLU.
import GPTTensor

/// Which feed-forward network a model uses.
public enum FeedForwardKind: String, Sendable, Hashable, Codable {
    /// GPT-2: `c_proj(gelu_tanh(c_fc(x)))`.
    case gelu
    /// Llama: `w2(silu(w1 x) ⊙ w3 x)`.
    case swiGLU
}

/// The feed-forward network of a Transformer block.
///
/// GELU: `c_fc` (C → H, bias), GELU (tanh form, `F.gelu(approximate="tanh")`), `c_proj`
/// (H → C, bias). SwiGLU: `w1`, `w3` (C → H), `w2` (H → C), biases optional.
public struct FeedForward: Sendable, Hashable {
    /// GELU MLP or SwiGLU.
    public let kind: FeedForwardKind
    /// C, the model width.
    public let dimensions: Int
    /// H, the hidden width.
    public let hiddenSize: Int
    /// GELU: `c_fc`; SwiGLU: `w1` (the gate's input).
    public let up: Linear
    /// SwiGLU only: `w3`.
    public let gate: Linear?
    /// GELU: `c_proj`; SwiGLU: `w2`.
    public let down: Linear

    /// What `forward` keeps for `backward`.
    public struct Saved {
        /// The input `[rows, C]` (owned by the caller).
        public let input: UnsafePointer<Float>
        /// The output `[rows, C]`.
        public let output: UnsafeMutablePointer<Float>
        /// Pre-activation `[rows, H]` (c_fc or w1 output), the w3 output, the activation fed to
        /// the down projection.
        let hidden: UnsafeMutablePointer<Float>, gateValues: UnsafeMutablePointer<Float>?, activated: UnsafeMutablePointer<Float>
        /// The number of rows.
        public let rows: Int
    }

    /// Registers the projections under `name` (`name.c_fc`, `name.c_proj`, or `name.w1/w2/w3`).
    public init(kind: FeedForwardKind, dimensions: Int, hiddenSize: Int, bias: Bool, name: String, layout: inout ParameterLayout) {
        self.kind = kind
        self.dimensions = dimensions
        self.hiddenSize = hiddenSize
        switch kind {
        case .gelu:
            up = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: "\(name).c_fc", layout: &layout)
            gate = nil
            down = Linear(inputSize: hiddenSize, outputSize: dimensions, bias: bias, name: "\(name).c_proj", layout: &layout)
        case .swiGLU:
            up = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: "\(name).w1", layout: &layout)
            down = Linear(inputSize: hiddenSize, outputSize: dimensions, bias: bias, name: "\(name).w2", layout: &layout)
            gate = Linear(inputSize: dimensions, outputSize: hiddenSize, bias: bias, name: "\(name).w3", layout: &layout)
        }
    }

    /// Applies the network to `rows` rows of `x`.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, parameters: ParameterBuffer, arena: Arena) -> Saved {
        let n = rows * hiddenSize
        let hidden = arena.allocate(n), activated = arena.allocate(n)
        up.forward(x, rows: rows, parameters: parameters, into: hidden)
        var gateValues: UnsafeMutablePointer<Float>?
        switch kind {
        case .gelu:
            Kernels.geluForward(hidden, into: activated, count: n)
        case .swiGLU:
            let g = arena.allocate(n)
            gate!.forward(x, rows: rows, parameters: parameters, into: g)
            Kernels.siluForward(hidden, into: activated, count: n)
            Kernels.multiply(activated, g, into: activated, count: n)
            gateValues = g
        }
        let output = arena.allocate(rows * dimensions)
        down.forward(activated, rows: rows, parameters: parameters, into: output)
        return Saved(input: x, output: output, hidden: hidden, gateValues: gateValues, activated: activated, rows: rows)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, parameters: ParameterBuffer, arena: Arena,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let rows = saved.rows, n = rows * hiddenSize
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let dActivated = arena.allocate(n), dHidden = arena.allocate(n)
        down.backward(outputGradient: dy, input: saved.activated, rows: rows, parameters: parameters, inputGradient: dActivated)
        switch kind {
        case .gelu:
            Kernels.geluBackward(x: saved.hidden, dy: dActivated, dx: dHidden, count: n)
            up.backward(outputGradient: dHidden, input: saved.input, rows: rows, parameters: parameters,
                        inputGradient: dx, accumulateInput: accumulateInput)
        case .swiGLU:
            // a = silu(h1) ⊙ h3: dh3 = da ⊙ silu(h1), dh1 = (da ⊙ h3) ⊙ silu′(h1).
            let g = saved.gateValues!
            let dGate = arena.allocate(n), silu = arena.allocate(n)
            Kernels.siluForward(saved.hidden, into: silu, count: n)
            Kernels.multiply(dActivated, silu, into: dGate, count: n)
            Kernels.multiply(dActivated, g, into: dActivated, count: n)
            Kernels.siluBackward(x: saved.hidden, dy: dActivated, dx: dHidden, count: n)
            up.backward(outputGradient: dHidden, input: saved.input, rows: rows, parameters: parameters,
                        inputGradient: dx, accumulateInput: accumulateInput)
            gate!.backward(outputGradient: dGate, input: saved.input, rows: rows, parameters: parameters,
                           inputGradient: dx, accumulateInput: true)
        }
    }
}
