import Timebase

/// Notes the frame where sound starts after at least `quietFrames` frames
/// of silence, so tests can time sound through a call on their own clock.
struct OnsetTracker {
    static let quietFrames = 5
    static let threshold: Int16 = 64
    private(set) var onset: Instant?
    private var quiet = OnsetTracker.quietFrames

    mutating func observe(_ frame: UnsafeBufferPointer<Int16>, at now: Instant) {
        if frame.contains(where: { $0 > OnsetTracker.threshold || $0 < -OnsetTracker.threshold }) {
            if quiet >= OnsetTracker.quietFrames { onset = now }
            quiet = 0
        } else if quiet < OnsetTracker.quietFrames {
            quiet += 1
        }
    }
}
