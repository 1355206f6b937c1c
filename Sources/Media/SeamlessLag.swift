/// Where a stream can be cut short or stretched without a break: the lag,
/// near one frame, at which the audio repeats itself best. A tone or a
/// voiced sound is periodic, so skipping or replaying a whole number of
/// its periods leaves the waveform continuous, where a fixed 10 ms would
/// jump its phase (the idea behind WSOLA time-scale modification).
///
/// The match is the normalised correlation, without the means, of the
/// last `windowSamples` played and the same length just before the
/// candidate point; among near-equal matches the lag closest to a frame
/// wins, so noise-like audio (which matches nowhere) moves by a frame.
enum SeamlessLag {
    static func windowSamples(frameSamples: Int) -> Int { frameSamples }
    static func shortestLag(frameSamples: Int) -> Int { frameSamples / 2 }
    static func longestLag(frameSamples: Int) -> Int { frameSamples * 3 / 2 }
    /// A lag must match this much better than a whole frame to be taken.
    static let preferenceForAFrame = 0.005

    /// `audio` holds the window just played at `reference`. `direction`
    /// +1: the playout point is right after that window and the candidate
    /// windows lie ahead (`reference + lag`); −1: the playout point is the
    /// end of `audio` (the window is its last part) and the candidates lie
    /// behind (`reference - lag`). Returns the lag, or nil when `audio` is
    /// too short for every candidate.
    static func best(in audio: UnsafeBufferPointer<Int16>, reference: Int, frameSamples: Int,
                     direction: Int) -> Int? {
        let window = windowSamples(frameSamples: frameSamples)
        let shortest = shortestLag(frameSamples: frameSamples)
        let longest = longestLag(frameSamples: frameSamples)
        guard reference >= 0, reference + window <= audio.count else { return nil }
        guard direction > 0 ? reference + longest + window <= audio.count : reference - longest >= 0 else {
            return nil
        }
        var bestLag = frameSamples
        var bestMatch = match(audio, reference, reference + direction * frameSamples, window)
        var distance = 1
        while frameSamples - distance >= shortest || frameSamples + distance <= longest {
            for sign in stride(from: -1, through: 1, by: 2) {
                let lag = frameSamples + sign * distance
                guard lag >= shortest && lag <= longest else { continue }
                let value = match(audio, reference, reference + direction * lag, window)
                if value > bestMatch + preferenceForAFrame {
                    bestMatch = value
                    bestLag = lag
                }
            }
            distance += 1
        }
        return bestLag
    }

    /// Normalised correlation of two windows of `audio`, means removed.
    static func match(_ audio: UnsafeBufferPointer<Int16>, _ first: Int, _ second: Int, _ length: Int) -> Double {
        var sumA = 0.0, sumB = 0.0
        for k in 0..<length {
            sumA += Double(audio[first + k])
            sumB += Double(audio[second + k])
        }
        let meanA = sumA / Double(length), meanB = sumB / Double(length)
        var cross = 0.0, energyA = 0.0, energyB = 0.0
        for k in 0..<length {
            let a = Double(audio[first + k]) - meanA
            let b = Double(audio[second + k]) - meanB
            cross += a * b
            energyA += a * a
            energyB += b * b
        }
        let scale = (energyA * energyB).squareRoot()
        return scale > 0 ? cross / scale : 1
    }
}
