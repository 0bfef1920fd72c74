import AcesCore
import AcesNodeFiles
import ArgumentParser
import Foundation

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create the federation CA and issue node certificates for mutual TLS.",
        discussion: """
            Nodes talk HTTPS with mutual TLS: each presents a certificate signed by the federation CA that names \
            its chapter. Private keys are written with mode 0600; existing files are never replaced. \
            Example: aces certs init-ca, then aces certs issue --chapter fr --host fr.aces.example
            """,
        subcommands: [InitCA.self, Issue.self, Rotate.self, Install.self]
    )

    /// `--dir DIR`, the folder of certificate files.
    struct Folder: ParsableArguments {
        @Option(help: ArgumentHelp("The folder of certificate files.", valueName: "dir"))
        var dir = "certs"

        var caCertificate: String { dir + "/ca.pem" }
        var caKey: String { dir + "/ca-key.pem" }
    }

    struct InitCA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-ca",
            abstract: "Create the federation CA: <dir>/ca.pem and its private key <dir>/ca-key.pem (mode 0600).",
            discussion: "Refuses to overwrite an existing CA. Keep ca-key.pem off the nodes; give every node ca.pem."
        )

        @OptionGroup var folder: Folder
        @Option(help: ArgumentHelp("The CA's common name.", valueName: "name"))
        var name = "Aces federation CA"
        @OptionGroup var output: OutputOptions

        func run() throws {
            let fm = FileManager.default
            for path in [folder.caCertificate, folder.caKey] where fm.fileExists(atPath: path) {
                throw CertificateError("\(path) already exists; remove it first to replace it")
            }
            let ca = try FederationCA.create(name: name)
            try CertsCommand.writing(into: folder.dir) {
                try FederationCA.write(ca, certificate: folder.caCertificate, privateKey: folder.caKey)
            }
            if output.json {
                Out.json(["certificate": .string(folder.caCertificate), "private_key": .string(folder.caKey), "name": .string(name)])
            } else {
                Out.line("Created the federation CA '\(name)': \(folder.caCertificate)")
                Out.line("Its private key is in \(folder.caKey), mode 0600; keep it off the nodes. Next: aces certs issue --chapter ID")
            }
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue",
            abstract: "Issue a node certificate for a chapter: <dir>/<id>.pem and its private key <dir>/<id>-key.pem (mode 0600).",
            discussion: """
                Signed by <dir>/ca.pem and <dir>/ca-key.pem. Valid two years, for both server and client TLS. \
                Refuses to overwrite an existing certificate. Example: aces certs issue --chapter fr --host fr.aces.example --host 10.0.0.5
                """
        )

        @Option(help: ArgumentHelp("The chapter the node serves (for example fr).", valueName: "id"))
        var chapter: String
        @OptionGroup var folder: Folder
        @Option(
            name: .customLong("host"),
            help: ArgumentHelp(
                "A DNS name or IP address peers reach the node at; repeat for several (default: localhost, 127.0.0.1, ::1).",
                valueName: "host"))
        var hosts: [String] = []
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard ChapterID(chapter) != nil else { throw ValidationError("--chapter: \(ChapterID.rule)") }
        }

        func run() throws {
            let id = ChapterID(chapter)!
            let fm = FileManager.default
            guard fm.fileExists(atPath: folder.caCertificate), fm.fileExists(atPath: folder.caKey) else {
                throw CertificateError(
                    "there is no federation CA in \(folder.dir) (\(folder.caCertificate) and \(folder.caKey)); run 'aces certs init-ca --dir \(folder.dir)' first"
                )
            }
            let certificate = folder.dir + "/" + id.rawValue + ".pem"
            let key = folder.dir + "/" + id.rawValue + "-key.pem"
            for path in [certificate, key] where fm.fileExists(atPath: path) {
                throw CertificateError("\(path) already exists; remove it first to replace it")
            }
            let ca = try FederationCA.read(certificate: folder.caCertificate, privateKey: folder.caKey)
            let names = hosts.isEmpty ? ["localhost", "127.0.0.1", "::1"] : hosts
            let issued = try FederationCA.issue(chapter: id, ca: ca, hosts: names)
            try FederationCA.write(issued, certificate: certificate, privateKey: key)
            if output.json {
                Out.json([
                    "chapter": .string(id.rawValue), "certificate": .string(certificate), "private_key": .string(key),
                    "hosts": .array(names.map { .string($0) }),
                ])
            } else {
                Out.line("Issued a certificate for chapter '\(id.rawValue)' (\(names.joined(separator: ", "))): \(certificate)")
                Out.line("Its private key is in \(key), mode 0600. Give the node both files and \(folder.caCertificate).")
            }
        }
    }

    /// Runs `body` with `dir` present, creating it when missing; a folder created here is removed again when `body` throws.
    static func writing(into dir: String, _ body: () throws -> Void) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: dir, isDirectory: &isDir)
        if existed, !isDir.boolValue { throw CertificateError("\(dir) is not a folder") }
        if !existed {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw CertificateError("cannot create the folder \(dir)")
            }
        }
        do {
            try body()
        } catch {
            if !existed { try? fm.removeItem(atPath: dir) }
            throw error
        }
    }
}
