@testable import HardwareLinux
import Foundation
import Platform
import XCTest

/// ALSA through its own plugins (no sound card needed): `null` discards
/// playback and makes capture, `file` records to and plays from raw files.
/// Neither paces in real time.
final class PCMStreamTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("atad-pcm-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func samples(_ count: Int) -> [Int16] {
        (0..<count).map { Int16(truncatingIfNeeded: $0 &* 97 &- 20000) }
    }

    private func littleEndianBytes(_ samples: [Int16]) -> [UInt8] {
        samples.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }

    func testAMissingDeviceIsATypedErrorWithItsNameAndALSAsMessage() {
        XCTAssertThrowsError(try PCMStream(device: "atad_no_such_pcm", direction: .playback)) { error in
            guard let error = error as? ALSAError else { return XCTFail("untyped: \(error)") }
            XCTAssertEqual(error.device, "atad_no_such_pcm")
            XCTAssertEqual(error.direction, .playback)
            XCTAssertEqual(error.operation, .open)
            XCTAssertEqual(error.code, -ENOENT)
            XCTAssertEqual(error.message,
                           "cannot open ALSA playback device \"atad_no_such_pcm\": No such file or directory")
        }
        XCTAssertThrowsError(try PCMStream(device: "plughw:CARD=AtadNoSuchCard,DEV=0", direction: .capture)) { error in
            guard let error = error as? ALSAError else { return XCTFail("untyped: \(error)") }
            XCTAssertEqual(error.device, "plughw:CARD=AtadNoSuchCard,DEV=0")
            XCTAssertEqual(error.operation, .open)
            XCTAssertLessThan(error.code, 0)
            XCTAssertTrue(error.message.hasPrefix("cannot open ALSA capture device \"plughw:CARD=AtadNoSuchCard,DEV=0\": "),
                          error.message)
        }
    }

    func testNullPlaybackNegotiatesTelephoneParametersAndPollsWritable() throws {
        let stream = try PCMStream(device: "null", direction: .playback)
        defer { stream.close() }
        XCTAssertEqual(stream.sampleRate, 8000)
        XCTAssertEqual(stream.channels, 1)
        XCTAssertEqual(stream.periodFrames, 160)
        XCTAssertEqual(stream.bufferFrames, 640)
        XCTAssertEqual(stream.startThresholdFrames, 320)
        XCTAssertEqual(stream.state, .prepared)

        var set = stream.pollDescriptors
        XCTAssertFalse(set.isEmpty)
        XCTAssertTrue(set.allSatisfy { $0.fd >= 0 })
        XCTAssertGreaterThan(try Poll.wait(&set, timeoutMilliseconds: 100), 0)
        var ready: PollEvents = []
        for entry in set {
            ready.formUnion(try stream.events(entry.returnedEvents, on: FileDescriptor(rawValue: entry.fd)))
        }
        XCTAssertTrue(ready.contains(.writable))
        XCTAssertEqual(try stream.events(.writable, on: FileDescriptor(rawValue: 9999)), [], "not one of ours")

        let period = samples(160)
        XCTAssertEqual(try stream.write(period), 160)
        XCTAssertEqual(stream.state, .prepared, "below the start threshold")
        // The null plugin forgets queued frames between writes (it never
        // fills), so only a single write of two periods reaches the threshold.
        XCTAssertEqual(try stream.write(samples(320)), 320)
        XCTAssertEqual(stream.state, .running, "started at two periods queued")
        XCTAssertEqual(stream.xrunCount, 0)
    }

    func testNullCaptureReadsWholeFramesOnceStarted() throws {
        let config = PCMConfiguration(sampleRate: 16000, periodMilliseconds: 10, periodCount: 3)
        let stream = try PCMStream(device: "null", direction: .capture, configuration: config)
        defer { stream.close() }
        XCTAssertEqual(stream.sampleRate, 16000)
        XCTAssertEqual(stream.periodFrames, 160)
        XCTAssertEqual(stream.bufferFrames, 480)
        try stream.start()
        XCTAssertEqual(stream.state, .running)
        var buffer = [Int16](repeating: 0, count: 160)
        XCTAssertEqual(try stream.read(into: &buffer), 160)
        XCTAssertThrowsError(try stream.write(buffer), "capture cannot be written")
    }

    func testFilePluginRecordsPlaybackByteForByte() throws {
        let path = directory.appendingPathComponent("played.raw").path
        let stream = try PCMStream(device: "file:'\(path)',raw", direction: .playback)
        let audio = samples(1000)
        var offset = 0
        var rounds = 0
        while offset < audio.count && rounds < 100 {
            let chunk = Array(audio[offset..<min(offset + 160, audio.count)])
            offset += try stream.write(chunk)
            rounds += 1
        }
        XCTAssertEqual(offset, audio.count)
        stream.close()
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(written.count, 2000)
        XCTAssertEqual(written, littleEndianBytes(audio))
    }

    func testFilePluginPlaysCaptureFromAFile() throws {
        let inPath = directory.appendingPathComponent("line-in.raw").path
        let outPath = directory.appendingPathComponent("captured.raw").path
        let audio = samples(480)
        try Data(littleEndianBytes(audio)).write(to: URL(fileURLWithPath: inPath))
        let definitions = try ALSAConfigTree(adding: """
            pcm.atad_test_line {
                type file
                slave.pcm null
                file "\(outPath)"
                infile "\(inPath)"
                format raw
            }
            """)
        let stream = try PCMStream(device: "atad_test_line", direction: .capture, definitions: definitions)
        defer { stream.close() }
        try stream.start()
        var received: [Int16] = []
        var buffer = [Int16](repeating: 0, count: 160)
        var rounds = 0
        while received.count < audio.count && rounds < 100 {
            let frames = try stream.read(into: &buffer)
            received += buffer[0..<frames]
            rounds += 1
        }
        XCTAssertEqual(received, audio)
    }

    func testXrunsAndSuspendsAreRecoveredInPlaceAndCounted() throws {
        // alsa-lib's plugins never under- or overrun by themselves: feed the
        // stream the error codes a sound card returns.
        let capture = try PCMStream(device: "null", direction: .capture)
        defer { capture.close() }
        try capture.start()
        XCTAssertTrue(try capture.recover(-EPIPE, .read))
        XCTAssertEqual(capture.xrunCount, 1)
        XCTAssertEqual(capture.state, .running, "capture restarted after an overrun")
        var buffer = [Int16](repeating: 0, count: 160)
        XCTAssertEqual(try capture.read(into: &buffer), 160)

        XCTAssertTrue(try capture.recover(-ESTRPIPE, .read))
        XCTAssertEqual(capture.suspendCount, 1)
        XCTAssertFalse(capture.isSuspended)

        XCTAssertFalse(try capture.recover(-EAGAIN, .read), "nothing ready is not an error")
        XCTAssertEqual(capture.xrunCount, 1)

        XCTAssertThrowsError(try capture.recover(-EIO, .read)) { error in
            XCTAssertEqual((error as? ALSAError)?.code, -EIO)
            XCTAssertEqual((error as? ALSAError)?.operation, .read)
        }

        let playback = try PCMStream(device: "null", direction: .playback)
        defer { playback.close() }
        XCTAssertEqual(try playback.write(samples(640)), 640)
        XCTAssertTrue(try playback.recover(-EPIPE, .write))
        XCTAssertEqual(playback.xrunCount, 1)
        XCTAssertEqual(playback.state, .prepared, "playback waits for its start threshold again")
        XCTAssertEqual(try playback.write(samples(320)), 320)
        XCTAssertEqual(playback.state, .running)
    }

    func testAnErrorWithoutReadinessOrAnInvalidDescriptorIsAskedAbout() throws {
        // A disconnected card (a USB card unplugged) polls as error and
        // invalid, never ready; an xrun polls as ready and error, and the
        // read or write that follows recovers it.
        XCTAssertTrue(PCMStream.needsProbe([.error, .invalid], direction: .capture))
        XCTAssertTrue(PCMStream.needsProbe([.error], direction: .capture))
        XCTAssertTrue(PCMStream.needsProbe([.hangUp], direction: .playback))
        XCTAssertTrue(PCMStream.needsProbe([.error, .readable], direction: .playback))
        XCTAssertFalse(PCMStream.needsProbe([.readable, .error], direction: .capture))
        XCTAssertFalse(PCMStream.needsProbe([.writable, .error], direction: .playback))
        XCTAssertFalse(PCMStream.needsProbe([.readable], direction: .capture))
        XCTAssertFalse(PCMStream.needsProbe([], direction: .playback))

        // A healthy stream answers the question and stays as it was.
        let capture = try PCMStream(device: "null", direction: .capture)
        defer { capture.close() }
        try capture.start()
        let descriptor = FileDescriptor(rawValue: capture.pollDescriptors[0].fd)
        XCTAssertNoThrow(try capture.events([.error, .invalid], on: descriptor))
        XCTAssertEqual(capture.state, .running)
        XCTAssertEqual(capture.xrunCount, 0)
    }

    func testLinkingPluginsFailsQuietly() throws {
        let capture = try PCMStream(device: "null", direction: .capture)
        let playback = try PCMStream(device: "null", direction: .playback)
        _ = capture.link(with: playback)  // hardware only; must not disturb the streams
        try capture.start()
        XCTAssertEqual(try playback.write(samples(320)), 320)
        var buffer = [Int16](repeating: 0, count: 160)
        XCTAssertEqual(try capture.read(into: &buffer), 160)
        capture.close()
        playback.close()
    }

    func testClosedStreamsAndBadConfigurationsAreTypedErrors() throws {
        let stream = try PCMStream(device: "null", direction: .playback)
        stream.close()
        XCTAssertFalse(stream.isOpen)
        XCTAssertThrowsError(try stream.write(samples(160))) { error in
            XCTAssertEqual((error as? ALSAError)?.operation, .write)
        }
        XCTAssertThrowsError(try PCMStream(device: "null", direction: .playback,
                                           configuration: PCMConfiguration(sampleRate: 0))) { error in
            XCTAssertEqual((error as? ALSAError)?.operation, .configure)
        }
        XCTAssertThrowsError(try ALSAConfigTree(adding: "pcm.broken { type ")) { error in
            XCTAssertEqual((error as? ALSAError)?.operation, .loadConfiguration)
        }
    }
}
