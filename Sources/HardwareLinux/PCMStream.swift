import CALSA
import CompactText
import Platform

/// One direction of a sound card, opened non-blocking: S16_LE, interleaved,
/// at the configured rate, channels and period.
///
/// Nothing here blocks. Register `pollDescriptors` with the poll loop, turn
/// what poll returns into readiness with `events(_:on:)`, then `read` or
/// `write` whole frames: they move what fits now and say how many frames
/// moved. Underruns and overruns (-EPIPE) and suspends (-ESTRPIPE) are
/// recovered in place (counted in `xrunCount` and `suspendCount`); only a
/// vanished device (`ALSAError.isDeviceGone`) or a real error is thrown.
public final class PCMStream {
    public let device: String
    public let direction: PCMDirection
    /// The parameters the device accepted.
    public let sampleRate: Int
    public let channels: Int
    public let periodFrames: Int
    public let bufferFrames: Int
    /// Playback starts by itself once this many frames are queued.
    public let startThresholdFrames: Int

    /// Overruns (capture) or underruns (playback) recovered so far.
    public private(set) var xrunCount = 0
    /// Suspends (system sleep) recovered so far.
    public private(set) var suspendCount = 0
    /// Suspended and waiting for the driver to resume: reads and writes move
    /// nothing and retry the resume.
    public private(set) var isSuspended = false

    private var handle: OpaquePointer?
    private let pollSet: [PollDescriptor]
    /// A copy of `pollSet` for snd_pcm_poll_descriptors_revents, allocated once.
    private let pollScratch: UnsafeMutableBufferPointer<PollDescriptor>

    /// Opens `device` (e.g. `plughw:CARD=Device,DEV=0`, `default`, `null`,
    /// `file:'/tmp/out.raw',raw`), from the system's ALSA configuration or
    /// from `definitions` when given.
    public init(device: String, direction: PCMDirection, configuration: PCMConfiguration = PCMConfiguration(),
                definitions: ALSAConfigTree? = nil) throws(ALSAError) {
        func failure(_ operation: ALSAOperation, _ code: Int32, _ detail: String = "") -> ALSAError {
            ALSAError(device: device, direction: direction, operation: operation, code: code, detail: detail)
        }
        let stream = direction == .playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE
        var opened: OpaquePointer?
        var code: Int32
        if let definitions {
            code = snd_pcm_open_lconf(&opened, device, stream, Int32(SND_PCM_NONBLOCK), definitions.tree)
        } else {
            code = snd_pcm_open(&opened, device, stream, Int32(SND_PCM_NONBLOCK))
        }
        guard code >= 0, let pcm = opened else { throw failure(.open, code < 0 ? code : -5) }

        let negotiated: Negotiated
        do {
            negotiated = try PCMStream.configure(pcm, configuration, direction)
        } catch {
            snd_pcm_close(pcm)
            throw failure(.configure, error.code, error.detail)
        }

        let count = snd_pcm_poll_descriptors_count(pcm)
        if count <= 0 {
            snd_pcm_close(pcm)
            throw failure(.pollDescriptors, count < 0 ? count : -22)
        }
        var descriptors = [PollDescriptor](repeating: PollDescriptor(descriptor: FileDescriptor(rawValue: -1), events: []), count: Int(count))
        let filled = descriptors.withUnsafeMutableBufferPointer {
            snd_pcm_poll_descriptors(pcm, $0.baseAddress, UInt32($0.count))
        }
        if filled < 0 {
            snd_pcm_close(pcm)
            throw failure(.pollDescriptors, filled)
        }
        descriptors.removeLast(descriptors.count - Int(filled))

        self.device = device
        self.direction = direction
        self.handle = pcm
        self.pollSet = descriptors
        self.pollScratch = UnsafeMutableBufferPointer<PollDescriptor>.allocate(capacity: descriptors.count)
        _ = self.pollScratch.initialize(from: descriptors)
        self.sampleRate = negotiated.sampleRate
        self.channels = configuration.channels
        self.periodFrames = negotiated.periodFrames
        self.bufferFrames = negotiated.bufferFrames
        self.startThresholdFrames = negotiated.startThreshold
    }

    public var isOpen: Bool { handle != nil }

    /// Closes the stream (queued playback is dropped).
    public func close() {
        if let pcm = handle {
            snd_pcm_close(pcm)
            handle = nil
        }
    }

    deinit {
        close()
        pollScratch.deallocate()
    }

    // MARK: Poll loop

    /// What to wait for: each descriptor with its events. Register each
    /// with the loop; they stay the same while the stream is open.
    public var pollDescriptors: [PollDescriptor] { pollSet }

    /// Turns the events poll returned for one of `pollDescriptors` into the
    /// stream's readiness: `.writable` (playback) or `.readable` (capture)
    /// when a period can move, `.error` on an xrun (read or write to
    /// recover). Throws when the device has gone (`isDeviceGone`): a card
    /// that vanished polls as an error forever and never as ready, so
    /// without this the caller would spin, and hold the card's files open so
    /// the kernel cannot finish removing it. Allocates nothing.
    public func events(_ returned: PollEvents, on descriptor: FileDescriptor) throws(ALSAError) -> PollEvents {
        let pcm = try openHandle(.pollEvents)
        var found = false
        for index in pollScratch.indices {
            if pollScratch[index].fd == descriptor.rawValue {
                pollScratch[index].revents = returned.rawValue
                found = true
            } else {
                pollScratch[index].revents = 0
            }
        }
        if !found { return [] }
        var result: UInt16 = 0
        let code = snd_pcm_poll_descriptors_revents(pcm, pollScratch.baseAddress, UInt32(pollScratch.count), &result)
        if code < 0 { throw error(.pollEvents, code) }
        let decoded = PollEvents(rawValue: Int16(truncatingIfNeeded: result))
        if PCMStream.needsProbe(decoded, direction: direction) {
            // The state in the mapped status page is no help here (it may
            // not be mapped, and reading it cannot fail): ask the driver.
            var delay: snd_pcm_sframes_t = 0
            let probe = snd_pcm_delay(pcm, &delay)
            if probe < 0 { _ = try recover(probe, .pollEvents) }
        }
        return decoded
    }

    /// Whether decoded poll events hide a fault the driver must be asked
    /// about: an invalid descriptor, or an error that comes without the
    /// readiness an xrun brings along. A disconnected card (USB unplugged)
    /// polls as error and invalid, never ready.
    static func needsProbe(_ decoded: PollEvents, direction: PCMDirection) -> Bool {
        let ready: PollEvents = direction == .playback ? .writable : .readable
        if decoded.contains(.invalid) || decoded.contains(.hangUp) { return true }
        return decoded.contains(.error) && !decoded.contains(ready)
    }

    // MARK: Moving audio

    /// Reads up to `samples.count / channels` whole frames that are ready
    /// now; returns how many frames were read (0 when none is ready yet).
    public func read(into samples: UnsafeMutableBufferPointer<Int16>) throws(ALSAError) -> Int {
        guard direction == .capture else { throw error(.read, -22, "not a capture stream") }
        let pcm = try openHandle(.read)
        let frames = samples.count / channels
        guard frames > 0, let base = samples.baseAddress else { return 0 }
        if isSuspended, try !resumeIfPossible(pcm) { return 0 }
        var attempt = 0
        while true {
            let result = snd_pcm_readi(pcm, UnsafeMutableRawPointer(base), UInt(frames))
            if result >= 0 { return Int(result) }
            // Retry once after an xrun or a resume; otherwise nothing moves now.
            let retry = try recover(Int32(truncatingIfNeeded: result), .read)
            attempt += 1
            if !retry || attempt > 1 { return 0 }
        }
    }

    /// Convenience over `read(into:)` for an array (no allocation when the
    /// array is not shared).
    public func read(into samples: inout [Int16]) throws(ALSAError) -> Int {
        var moved = 0
        var failure: ALSAError?
        samples.withUnsafeMutableBufferPointer { buffer in
            do throws(ALSAError) { moved = try read(into: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return moved
    }

    /// Queues up to `samples.count / channels` whole frames, as many as fit
    /// now; returns how many frames were queued.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(ALSAError) -> Int {
        guard direction == .playback else { throw error(.write, -22, "not a playback stream") }
        let pcm = try openHandle(.write)
        let frames = samples.count / channels
        guard frames > 0, let base = samples.baseAddress else { return 0 }
        if isSuspended, try !resumeIfPossible(pcm) { return 0 }
        var attempt = 0
        while true {
            let result = snd_pcm_writei(pcm, UnsafeRawPointer(base), UInt(frames))
            if result >= 0 { return Int(result) }
            // Retry once after an xrun or a resume; otherwise nothing moves now.
            let retry = try recover(Int32(truncatingIfNeeded: result), .write)
            attempt += 1
            if !retry || attempt > 1 { return 0 }
        }
    }

    public func write(_ samples: [Int16]) throws(ALSAError) -> Int {
        var moved = 0
        var failure: ALSAError?
        samples.withUnsafeBufferPointer { buffer in
            do throws(ALSAError) { moved = try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return moved
    }

    /// Frames that can be read (capture) or written (playback) now.
    public func availableFrames() throws(ALSAError) -> Int {
        let pcm = try openHandle(.available)
        if isSuspended, try !resumeIfPossible(pcm) { return 0 }
        let result = snd_pcm_avail_update(pcm)
        if result >= 0 { return Int(result) }
        _ = try recover(Int32(truncatingIfNeeded: result), .available)
        return 0
    }

    /// Frames queued for playback and not played yet; nil when the stream
    /// cannot tell now (an xrun or a suspend, which the next write handles).
    public func queuedFrames() -> Int? {
        guard direction == .playback, let pcm = handle, !isSuspended else { return nil }
        let available = snd_pcm_avail_update(pcm)
        guard available >= 0 else { return nil }
        return Swift.max(0, bufferFrames - Int(available))
    }

    // MARK: Control

    /// Starts the stream now. Capture must be started (poll never reports
    /// a prepared capture stream readable); playback starts by itself once
    /// `startThresholdFrames` are queued.
    public func start() throws(ALSAError) {
        let pcm = try openHandle(.start)
        let code = snd_pcm_start(pcm)
        if code < 0 { throw error(.start, code) }
    }

    /// Stops at once, dropping queued frames; `prepare` makes it ready again.
    public func drop() {
        if let pcm = handle { _ = snd_pcm_drop(pcm) }
    }

    public func prepare() throws(ALSAError) {
        let pcm = try openHandle(.prepare)
        let code = snd_pcm_prepare(pcm)
        if code < 0 { throw error(.prepare, code) }
    }

    public var state: PCMState {
        guard let pcm = handle else { return .closed }
        let value = snd_pcm_state(pcm)
        if value == SND_PCM_STATE_OPEN { return .open }
        if value == SND_PCM_STATE_SETUP { return .setUp }
        if value == SND_PCM_STATE_PREPARED { return .prepared }
        if value == SND_PCM_STATE_RUNNING { return .running }
        if value == SND_PCM_STATE_XRUN { return .xrun }
        if value == SND_PCM_STATE_DRAINING { return .draining }
        if value == SND_PCM_STATE_PAUSED { return .paused }
        if value == SND_PCM_STATE_SUSPENDED { return .suspended }
        if value == SND_PCM_STATE_DISCONNECTED { return .disconnected }
        return .other
    }

    /// Links two streams of one card so they start, stop and recover
    /// together (snd_pcm_link). Fails on PCMs that cannot be linked (most
    /// plugins); returns whether it worked. Optional.
    @discardableResult
    public func link(with other: PCMStream) -> Bool {
        guard let pcm = handle, let peer = other.handle else { return false }
        return snd_pcm_link(pcm, peer) == 0
    }

    // MARK: Recovery

    /// Recovers from `code` without blocking. Returns true when the stream
    /// is usable again at once (worth retrying the transfer), false when
    /// nothing can move now; throws what cannot be recovered.
    func recover(_ code: Int32, _ operation: ALSAOperation) throws(ALSAError) -> Bool {
        let pcm = try openHandle(operation)
        switch code {
        case -11 /* EAGAIN */, -4 /* EINTR */:
            return false
        case -32 /* EPIPE: underrun or overrun */:
            xrunCount += 1
            try restart(pcm)
            return true
        case -86 /* ESTRPIPE: suspended */:
            suspendCount += 1
            isSuspended = true
            return try resumeIfPossible(pcm)
        default:
            throw error(operation, code)
        }
    }

    /// snd_pcm_recover would sleep while the driver resumes: poll instead,
    /// once per read or write.
    private func resumeIfPossible(_ pcm: OpaquePointer) throws(ALSAError) -> Bool {
        let code = snd_pcm_resume(pcm)
        if code == -11 /* EAGAIN: not yet */ { return false }
        isSuspended = false
        // Resumed in place, or the driver cannot resume: start over.
        if code < 0 { try restart(pcm) }
        return true
    }

    /// Prepares again; capture also starts again (playback restarts itself
    /// at the start threshold).
    private func restart(_ pcm: OpaquePointer) throws(ALSAError) {
        var code = snd_pcm_prepare(pcm)
        if code < 0 { throw error(.prepare, code) }
        if direction == .capture {
            code = snd_pcm_start(pcm)
            if code < 0 { throw error(.start, code) }
        }
    }

    private func openHandle(_ operation: ALSAOperation) throws(ALSAError) -> OpaquePointer {
        guard let pcm = handle else { throw error(operation, -77 /* EBADFD */, "stream closed") }
        return pcm
    }

    private func error(_ operation: ALSAOperation, _ code: Int32, _ detail: String = "") -> ALSAError {
        ALSAError(device: device, direction: direction, operation: operation, code: code, detail: detail)
    }

    // MARK: Setup

    struct Negotiated {
        var sampleRate: Int
        var periodFrames: Int
        var bufferFrames: Int
        var startThreshold: Int
    }

    struct SetupFailure: Error {
        var code: Int32
        var detail: String
    }

    private static func configure(_ pcm: OpaquePointer, _ wanted: PCMConfiguration,
                                  _ direction: PCMDirection) throws(SetupFailure) -> Negotiated {
        guard wanted.sampleRate > 0, wanted.channels > 0, wanted.periodFrames > 0, wanted.periodCount >= 2 else {
            throw SetupFailure(code: -22, detail: "invalid configuration")
        }
        var hardware: OpaquePointer?
        var code = snd_pcm_hw_params_malloc(&hardware)
        guard code >= 0, let hw = hardware else { throw SetupFailure(code: code, detail: "out of memory") }
        defer { snd_pcm_hw_params_free(hw) }

        func check(_ code: Int32, _ detail: String) throws(SetupFailure) {
            if code < 0 { throw SetupFailure(code: code, detail: detail) }
        }
        try check(snd_pcm_hw_params_any(pcm, hw), "no configurations")
        try check(snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "interleaved access refused")
        try check(snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE), "S16_LE refused")
        try check(snd_pcm_hw_params_set_channels(pcm, hw, UInt32(wanted.channels)),
                  "\(wanted.channels) channel(s) refused")
        var rate = UInt32(wanted.sampleRate)
        code = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, nil)
        try check(code, "\(wanted.sampleRate) Hz refused")
        if Int(rate) != wanted.sampleRate {
            throw SetupFailure(code: -22, detail: "\(wanted.sampleRate) Hz refused, nearest \(rate) Hz: use a plughw: device")
        }
        var period = UInt(wanted.periodFrames)
        try check(snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, nil),
                  "period of \(wanted.periodFrames) frames refused")
        var buffer = UInt(wanted.periodFrames * wanted.periodCount)
        if buffer < period * 2 { buffer = period * 2 }
        try check(snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer),
                  "buffer of \(wanted.bufferFrames) frames refused")
        try check(snd_pcm_hw_params(pcm, hw), "hardware parameters refused")
        _ = snd_pcm_hw_params_get_period_size(hw, &period, nil)
        _ = snd_pcm_hw_params_get_buffer_size(hw, &buffer)

        var software: OpaquePointer?
        code = snd_pcm_sw_params_malloc(&software)
        guard code >= 0, let sw = software else { throw SetupFailure(code: code, detail: "out of memory") }
        defer { snd_pcm_sw_params_free(sw) }
        try check(snd_pcm_sw_params_current(pcm, sw), "no software parameters")
        // Playback: start with a few periods queued. Capture: start on
        // `start()` or the first read.
        var threshold = direction == .playback ? Int(period) * Swift.max(1, wanted.playbackStartPeriods) : 1
        if threshold > Int(buffer) { threshold = Int(buffer) }
        try check(snd_pcm_sw_params_set_start_threshold(pcm, sw, UInt(threshold)), "start threshold refused")
        // Wake the loop once per period.
        try check(snd_pcm_sw_params_set_avail_min(pcm, sw, period), "wake-up size refused")
        try check(snd_pcm_sw_params(pcm, sw), "software parameters refused")
        return Negotiated(sampleRate: Int(rate), periodFrames: Int(period), bufferFrames: Int(buffer),
                          startThreshold: threshold)
    }
}
