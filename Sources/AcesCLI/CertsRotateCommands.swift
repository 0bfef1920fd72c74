import AcesCore
import AcesNodeFiles
import ArgumentParser
import Foundation

extension CertsCommand {
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Give a node a new TLS certificate from the federation CA, for the same chapter and hosts.",
            discussion: """
                For whoever holds the CA on the node's machine (a test federation, a drill). The new certificate and key \
                replace the node's; a running node takes them for its new connections, without a restart. Otherwise the CA \
                holder runs 'aces certs issue' and the node's operator 'aces certs install'. \
                Example: aces certs rotate --data /var/lib/aces --dir /root/aces-ca
                """
        )
        @OptionGroup var node: NodeOptions
        @OptionGroup var folder: Folder
        @Option(
            name: .customLong("host"),
            help: ArgumentHelp(
                "A DNS name or IP address peers reach the node at; repeat for several (default: those of its current certificate).",
                valueName: "host"))
        var hosts: [String] = []

        func run() throws {
            let dir = try node.node()
            let ca = try FederationCA.read(certificate: folder.caCertificate, privateKey: folder.caKey)
            let names = hosts.isEmpty ? dir.certificateHosts() : hosts
            let issued = try FederationCA.issue(
                chapter: dir.chapter, ca: ca, hosts: names.isEmpty ? ["localhost", "127.0.0.1", "::1"] : names)
            try dir.installCertificate(issued)
            CertsCommand.installed(dir)
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Install a node's new TLS certificate and key (from the federation CA) in place of its current ones.",
            discussion: """
                Checks them first, as 'aces serve' does: signed by the node's federation CA, naming its chapter, valid now, \
                the key matching; otherwise nothing is replaced. A running node takes them for its new connections, without a \
                restart. Example: aces certs install --data /var/lib/aces --certificate fr.pem --private-key fr-key.pem
                """
        )
        @OptionGroup var node: NodeOptions
        @Option(help: ArgumentHelp("The new certificate (PEM).", valueName: "file")) var certificate: String
        @Option(help: ArgumentHelp("Its private key (PEM).", valueName: "file")) var privateKey: String

        func run() throws {
            let dir = try node.node()
            guard let cert = try? String(contentsOfFile: certificate, encoding: .utf8) else {
                throw CLIError("cannot read the certificate file \(certificate): check the path")
            }
            guard let key = try? String(contentsOfFile: privateKey, encoding: .utf8) else {
                throw CLIError("cannot read the private key file \(privateKey): check the path and that this user may read it")
            }
            try dir.installCertificate(IssuedCertificate(certificatePEM: cert, privateKeyPEM: key))
            CertsCommand.installed(dir)
        }
    }

    static func installed(_ dir: NodeDirectory) {
        let f = dir.config.federation!
        Out.line(
            "Installed a new TLS certificate for '\(dir.chapter)': \(dir.resolve(f.certificate)) (key \(dir.resolve(f.privateKey)), mode 0600)."
        )
        Out.line("A running 'aces serve' uses it for every new connection from now on; no restart is needed.")
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check a node's configuration before serving it.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check aces.toml, the roster files, the key files and the TLS certificate, as 'aces serve' does at start.",
            discussion:
                "Prints one sentence per mistake and exits 1 if there is any; warns of a certificate that expires within 30 days. Example: aces config check --data /var/lib/aces"
        )
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let dir = try node.node()
            let report = dir.check()
            if output.json {
                Out.json([
                    "valid": .bool(report.isValid), "problems": .array(report.problems.map { .string($0) }),
                    "warnings": .array(report.warnings.map { .string($0) }),
                ])
            } else {
                for w in report.warnings { Out.line("warning: \(w)") }
                if report.isValid { Out.line("\(dir.path): the configuration, roster, keys and certificate are fine.") }
            }
            guard report.isValid else {
                if !output.json { for p in report.problems { FileHandle.standardError.write(Data("Error: \(p)\n".utf8)) } }
                throw ExitCode(1)
            }
        }
    }
}
