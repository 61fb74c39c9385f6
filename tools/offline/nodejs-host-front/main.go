// Command pulumi-language-nodejs (the front) stands in for a Node.js language host that cannot run
// policy packs: it starts that host, forwards every call to it unchanged, and answers the one call
// the host lacks, RunPlugin for an analyzer, by running `pulumi-analyzer-policy` (next to this
// binary) in the policy pack's directory.
//
// The Pulumi CLI runs a Node.js policy pack through the language host's RunPlugin whenever a
// `pulumi-language-nodejs` is installed; the last host released inside the sdk/v3 module (the one
// tools/offline/toolchain.sh falls back to) answers RunPlugin with "not supported".
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

const (
	// The host this front forwards to, next to this binary.
	baseHost = "pulumi-language-nodejs-base"
	// What runs a Node.js policy pack: `node` on the pack's own @pulumi/pulumi/cmd/run-policy-pack.
	policyLauncher = "pulumi-analyzer-policy"
	runPlugin      = "/pulumirpc.LanguageRuntime/RunPlugin"
	// Matches the CLI's own limit for plugin messages.
	maxMessage = 400 * 1024 * 1024
)

func main() {
	if err := serve(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (front): %v\n", err)
		os.Exit(1)
	}
}

func serve() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Dir(self)
	base, err := startBase(filepath.Join(dir, baseHost), os.Args[1:])
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessage),
		grpc.MaxSendMsgSize(maxMessage),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(stream)
			return forward(base, method, stream, filepath.Join(dir, policyLauncher))
		}),
	)
	// The CLI reads the port from the first line of stdout, as from any plugin.
	fmt.Println(lis.Addr().(*net.TCPAddr).Port)
	return server.Serve(lis)
}

// startBase runs the real host with the CLI's arguments and dials the port it prints.
func startBase(path string, args []string) (*grpc.ClientConn, error) {
	cmd := exec.Command(path, args...)
	cmd.Stderr = os.Stderr
	// The CLI kills plugins when it is done with them; the host must not outlive its front.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	lines := bufio.NewReader(out)
	port, err := lines.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("%s printed no port: %w", path, err)
	}
	go func() { _, _ = io.Copy(os.Stdout, lines) }()
	go func() {
		// Without its host the front is of no use: leave with the host's status.
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		os.Exit(0)
	}()
	return grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
}

// forward relays one call of any kind (unary or streaming) to the real host, except RunPlugin for
// an analyzer, which it answers itself.
func forward(base *grpc.ClientConn, method string, in grpc.ServerStream, launcher string) error {
	first := new(frame)
	if err := in.RecvMsg(first); err != nil {
		return err
	}
	if method == runPlugin {
		var req pulumirpc.RunPluginRequest
		if err := proto.Unmarshal(first.data, &req); err == nil && req.GetKind() == "analyzer" {
			return runPolicyPack(&req, in, launcher)
		}
	}
	ctx := in.Context()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md.Copy())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, err := base.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		return err
	}
	sendErr := make(chan error, 1)
	go func() {
		msg := first
		for {
			if err := out.SendMsg(msg); err != nil {
				sendErr <- err
				return
			}
			msg = new(frame)
			if err := in.RecvMsg(msg); err != nil {
				if errors.Is(err, io.EOF) {
					sendErr <- out.CloseSend()
				} else {
					sendErr <- err
				}
				return
			}
		}
	}()
	if header, err := out.Header(); err == nil {
		_ = in.SendHeader(header)
	}
	for {
		msg := new(frame)
		if err := out.RecvMsg(msg); err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := in.SendMsg(msg); err != nil {
			return err
		}
	}
}

// runPolicyPack runs the launcher in the pack's directory and streams its output and exit code
// back, as the language hosts that support policy packs do.
func runPolicyPack(req *pulumirpc.RunPluginRequest, stream grpc.ServerStream, launcher string) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	// The same arguments the CLI gives a policy launcher it runs itself: its flags and the engine
	// address, then the pack (the working directory).
	cmd := exec.CommandContext(stream.Context(), launcher, append(req.GetArgs(), ".")...)
	cmd.Dir = dir
	cmd.Env = req.GetEnv()
	send := func(resp *pulumirpc.RunPluginResponse) error {
		data, err := proto.Marshal(resp)
		if err != nil {
			return err
		}
		return stream.SendMsg(&frame{data: data})
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", launcher, err)
	}
	sends := make(chan *pulumirpc.RunPluginResponse)
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse, done chan<- struct{}) {
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				sends <- wrap(append([]byte(nil), buf[:n]...))
			}
			if err != nil {
				close(done)
				return
			}
		}
	}
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, outDone)
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, errDone)
	go func() {
		<-outDone
		<-errDone
		close(sends)
	}()
	for resp := range sends {
		if err := send(resp); err != nil {
			_ = cmd.Process.Kill()
		}
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = exit.ExitCode()
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// frame is one message as bytes on the wire: relayed without decoding.
type frame struct{ data []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("unexpected message type %T", v)
	}
	return f.data, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("unexpected message type %T", v)
	}
	f.data = append([]byte(nil), data...)
	return nil
}
