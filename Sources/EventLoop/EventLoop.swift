import Platform
import Timebase

/// The daemon's one loop: every descriptor it waits on and every timer, on
/// one thread, around one poll() call.
///
/// Handlers are closures run on the loop; they may register, unregister and
/// schedule freely, including for themselves.
public final class EventLoop {
    public typealias DescriptorHandler = (PollEvents) -> Void
    public typealias TimerHandler = () -> Void

    private struct Registration {
        var events: PollEvents
        var handler: DescriptorHandler
    }

    public let clock: any MonotonicClock
    private var registrations: [Int32: Registration] = [:]
    private var timers = TimerQueue()
    private var timerHandlers: [TimerID: TimerHandler] = [:]
    private var pollSet: [PollDescriptor] = []
    private var pollSetIsStale = true
    private var stopRequested = false

    public init(clock: any MonotonicClock) {
        self.clock = clock
    }

    public var now: Instant { clock.now }

    // MARK: Descriptors

    public func register(_ descriptor: FileDescriptor, for events: PollEvents, handler: @escaping DescriptorHandler) {
        registrations[descriptor.rawValue] = Registration(events: events, handler: handler)
        pollSetIsStale = true
    }

    /// Changes which events a registered descriptor waits for.
    public func update(_ descriptor: FileDescriptor, events: PollEvents) {
        guard registrations[descriptor.rawValue] != nil else { return }
        registrations[descriptor.rawValue]!.events = events
        pollSetIsStale = true
    }

    public func unregister(_ descriptor: FileDescriptor) {
        if registrations.removeValue(forKey: descriptor.rawValue) != nil { pollSetIsStale = true }
    }

    public var registeredDescriptorCount: Int { registrations.count }

    // MARK: Timers

    @discardableResult
    public func schedule(at deadline: Instant, _ handler: @escaping TimerHandler) -> TimerID {
        let id = timers.schedule(at: deadline)
        timerHandlers[id] = handler
        return id
    }

    @discardableResult
    public func schedule(after interval: Interval, _ handler: @escaping TimerHandler) -> TimerID {
        schedule(at: clock.now + interval, handler)
    }

    public func cancel(_ id: TimerID) {
        timers.cancel(id)
        timerHandlers.removeValue(forKey: id)
    }

    public var scheduledTimerCount: Int { timers.count }

    /// Runs every timer due at the clock's current time, earliest first.
    /// Timers scheduled by a handler for a time already past run in the same
    /// call; returns how many ran.
    @discardableResult
    public func runDueTimers() -> Int {
        var fired = 0
        let now = clock.now
        while let id = timers.popDue(now: now) {
            guard let handler = timerHandlers.removeValue(forKey: id) else { continue }
            handler()
            fired += 1
        }
        return fired
    }

    // MARK: Running

    /// Waits once (at most until the next timer or `maximumWait`), then runs
    /// ready descriptor handlers and due timers.
    public func runOnce(maximumWait: Interval? = nil) throws(Errno) {
        var wait: Interval? = maximumWait
        if let deadline = timers.nextDeadline() {
            let untilDeadline = deadline - clock.now
            wait = wait.map { $0 < untilDeadline ? $0 : untilDeadline } ?? untilDeadline
        }
        let timeout: Int32
        if let wait {
            let milliseconds = wait.millisecondsRoundedUp
            timeout = Int32(clamping: milliseconds < 0 ? 0 : milliseconds)
        } else {
            timeout = -1
        }
        rebuildPollSetIfNeeded()
        let ready = try Poll.wait(&pollSet, timeoutMilliseconds: timeout)
        if ready > 0 { dispatchReadyDescriptors() }
        runDueTimers()
    }

    /// Runs until `stop()` is called by a handler.
    public func run() throws(Errno) {
        stopRequested = false
        while !stopRequested {
            try runOnce()
        }
    }

    public func stop() { stopRequested = true }

    private func rebuildPollSetIfNeeded() {
        guard pollSetIsStale else { return }
        pollSet.removeAll(keepingCapacity: true)
        for (fd, registration) in registrations {
            pollSet.append(PollDescriptor(descriptor: FileDescriptor(rawValue: fd), events: registration.events))
        }
        pollSetIsStale = false
    }

    private func dispatchReadyDescriptors() {
        // Handlers may change registrations: look each one up again, and skip
        // descriptors unregistered by an earlier handler in this round.
        for index in pollSet.indices {
            let entry = pollSet[index]
            guard entry.revents != 0 else { continue }
            pollSet[index].revents = 0
            guard let registration = registrations[entry.fd] else { continue }
            registration.handler(entry.returnedEvents)
        }
    }
}
