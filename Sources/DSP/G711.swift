import CSpanDSP

/// G.711 μ-law and A-law companding of whole frames, through spandsp's
/// inline `linear_to_ulaw` / `ulaw_to_linear` / `linear_to_alaw` /
/// `alaw_to_linear` (bit-exact with ITU-T G.711 and G.191's reference).
///
/// Frames are caller-provided buffers; nothing allocates. Where the output
/// is shorter than the input only `output.count` samples are converted.
public enum G711 {
    public enum Law: Sendable {
        /// PCMU, RTP payload type 0 (North America, Japan).
        case uLaw
        /// PCMA, RTP payload type 8 (most of the rest of the world).
        case aLaw
    }

    public static func encode(_ sample: Int16, _ law: Law) -> UInt8 {
        switch law {
        case .uLaw: return linear_to_ulaw(Int32(sample))
        case .aLaw: return linear_to_alaw(Int32(sample))
        }
    }

    public static func decode(_ code: UInt8, _ law: Law) -> Int16 {
        switch law {
        case .uLaw: return ulaw_to_linear(code)
        case .aLaw: return alaw_to_linear(code)
        }
    }

    public static func encode(_ input: UnsafeBufferPointer<Int16>,
                              into output: UnsafeMutableBufferPointer<UInt8>, _ law: Law) {
        let n = min(input.count, output.count)
        switch law {
        case .uLaw:
            for i in 0..<n { output[i] = linear_to_ulaw(Int32(input[i])) }
        case .aLaw:
            for i in 0..<n { output[i] = linear_to_alaw(Int32(input[i])) }
        }
    }

    public static func decode(_ input: UnsafeBufferPointer<UInt8>,
                              into output: UnsafeMutableBufferPointer<Int16>, _ law: Law) {
        let n = min(input.count, output.count)
        switch law {
        case .uLaw:
            for i in 0..<n { output[i] = ulaw_to_linear(input[i]) }
        case .aLaw:
            for i in 0..<n { output[i] = alaw_to_linear(input[i]) }
        }
    }
}
