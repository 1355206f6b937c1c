import CGpiod
import Platform

/// An input line requested for both-edge events, e.g. the SLIC's hook output
/// (SHK). Its event descriptor is non-blocking: register it with the poll loop
/// for `.readable` and call `readEvents` when it is.
public final class GPIOInputLine {
    /// How many events one libgpiod read takes at most (the kernel queues 16).
    public static let batchSize = 16

    public let chip: GPIOChip
    public let offset: Int
    public let activeLow: Bool
    public let bias: GPIOBias
    /// The descriptor to poll for `.readable`.
    public let eventDescriptor: FileDescriptor

    private var line: OpaquePointer?
    private let batch: UnsafeMutablePointer<gpiod_line_event>

    /// Requests line `offset` of `chip` as an input with both-edge events.
    /// `activeLow` makes the kernel invert values and edges.
    public init(chip: GPIOChip, offset: Int, activeLow: Bool = false, bias: GPIOBias = .asIs,
                consumer: String = "atad") throws(GPIOError) {
        let line = try chip.line(at: offset)
        let flags = gpioRequestFlags(activeLow: activeLow, bias: bias)
        let result = consumer.withCString { name -> Int32 in
            var config = gpiod_line_request_config(
                consumer: name, request_type: Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES), flags: flags)
            return gpiod_line_request(line, &config, 0)
        }
        if result != 0 { throw GPIOError.lineFailed(.request, chip: chip.name, offset: offset, Errno.current) }
        let fd = gpiod_line_event_get_fd(line)
        if fd < 0 {
            let error = Errno.current
            gpiod_line_release(line)
            throw GPIOError.lineFailed(.request, chip: chip.name, offset: offset, error)
        }
        let descriptor = FileDescriptor(rawValue: fd)
        do {
            try descriptor.setNonBlocking()
        } catch {
            gpiod_line_release(line)
            throw GPIOError.lineFailed(.request, chip: chip.name, offset: offset, error)
        }
        self.chip = chip
        self.offset = offset
        self.activeLow = activeLow
        self.bias = bias
        self.line = line
        self.eventDescriptor = descriptor
        self.batch = UnsafeMutablePointer<gpiod_line_event>.allocate(capacity: GPIOInputLine.batchSize)
    }

    public var isOpen: Bool { line != nil && chip.isOpen }

    /// The logical value now (active-low applied).
    public func value() throws(GPIOError) -> Bool {
        let line = try openLine()
        let value = gpiod_line_get_value(line)
        if value < 0 { throw GPIOError.lineFailed(.getValue, chip: chip.name, offset: offset, Errno.current) }
        return value != 0
    }

    /// Moves the pending edge events into `events`, oldest first, without
    /// blocking; returns how many were stored (0: none pending). Stops when
    /// `events` is full: call again while it returns `events.count`.
    public func readEvents(into events: UnsafeMutableBufferPointer<GPIOEdgeEvent>) throws(GPIOError) -> Int {
        var stored = 0
        while stored < events.count {
            let wanted = Swift.min(GPIOInputLine.batchSize, events.count - stored)
            let count = try readBatch(limit: wanted)
            for index in 0..<count {
                events[stored] = GPIOInputLine.convert(batch[index])
                stored += 1
            }
            if count < wanted { break }
        }
        return stored
    }

    /// Replaces the contents of `events` with the pending edge events (at
    /// most `limit`), oldest first, without blocking. Reserve capacity once
    /// and reuse the array to keep this free of allocation.
    public func readEvents(into events: inout [GPIOEdgeEvent], limit: Int = GPIOInputLine.batchSize) throws(GPIOError) {
        events.removeAll(keepingCapacity: true)
        while events.count < limit {
            let wanted = Swift.min(GPIOInputLine.batchSize, limit - events.count)
            let count = try readBatch(limit: wanted)
            for index in 0..<count { events.append(GPIOInputLine.convert(batch[index])) }
            if count < wanted { break }
        }
    }

    /// One read of at most `limit` (capped at `batchSize`) events into
    /// `batch`; 0 when none is pending.
    private func readBatch(limit: Int) throws(GPIOError) -> Int {
        _ = try openLine()
        let wanted = Swift.min(GPIOInputLine.batchSize, limit)
        if wanted <= 0 { return 0 }
        while true {
            let count = gpiod_line_event_read_fd_multiple(eventDescriptor.rawValue, batch, UInt32(wanted))
            if count >= 0 { return Int(count) }
            let error = Errno.current
            if error == .wouldBlock { return 0 }
            if error != .interrupted {
                throw GPIOError.lineFailed(.readEvents, chip: chip.name, offset: offset, error)
            }
        }
    }

    /// Releases the line (its event descriptor closes with it).
    public func close() {
        if let line, chip.isOpen { gpiod_line_release(line) }
        line = nil
    }

    deinit {
        close()
        batch.deallocate()
    }

    private func openLine() throws(GPIOError) -> OpaquePointer {
        guard let line, chip.isOpen else { throw GPIOError.closed(chip: chip.name, offset: offset) }
        return line
    }

    static func convert(_ event: gpiod_line_event) -> GPIOEdgeEvent {
        let edge: GPIOEdge = event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE) ? .rising : .falling
        let nanoseconds = Int64(event.ts.tv_sec) &* 1_000_000_000 &+ Int64(event.ts.tv_nsec)
        return GPIOEdgeEvent(edge: edge, timestampNanoseconds: nanoseconds)
    }
}

/// libgpiod v1 request flags for active-low and bias.
func gpioRequestFlags(activeLow: Bool, bias: GPIOBias) -> Int32 {
    var flags: Int32 = 0
    if activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
    switch bias {
    case .asIs: break
    case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
    case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
    case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
    }
    return flags
}
