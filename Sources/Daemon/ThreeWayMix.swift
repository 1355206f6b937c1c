/// A line's three-way call: the second far end's connection, mixed with
/// the line's call (`LinePort.media`), and what each far end last said,
/// kept for the other's mix: each far end hears the line and the other far
/// end, never itself. Made at the line's first three-way call and kept,
/// so no frame allocates.
final class ThreeWayMix {
    /// The second far end; nil while the line has no three-way call.
    var second: RTPConnection?
    /// The line's call's and the second far end's last earpiece frames.
    var firstHeard: [Int16]
    var secondHeard: [Int16]
    /// The mouthpiece plus one far end, for the other.
    var outgoing: [Int16]

    init(frameSamples: Int) {
        firstHeard = [Int16](repeating: 0, count: frameSamples)
        secondHeard = [Int16](repeating: 0, count: frameSamples)
        outgoing = [Int16](repeating: 0, count: frameSamples)
    }

    /// Starts mixing `connection` in, from silence.
    func join(_ connection: RTPConnection) {
        second = connection
        firstHeard.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        secondHeard.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
