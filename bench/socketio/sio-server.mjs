// The Socket.IO 4 peer of `make bench` (docs/performance.md, "Against
// Socket.IO 4"): a small chat-style server as the Socket.IO documentation
// teaches it. Each client joins the room named in its handshake (`auth.room`,
// or the `room` query parameter); `broadcast` goes to the room except the
// sender, `direct` to one socket id. Both are acknowledged when the client
// asks for it (emit with a callback), as a client that wants to know the
// server took its message does.
//
//   node sio-server.mjs [--port N]     prints "listening on PORT"; SIGTERM stops it
//
// WebSocket transport only (no HTTP long-polling), no compression of any
// kind, no client bundle served.
import { createServer } from "node:http";
import { Server } from "socket.io";

let port = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") port = Number(argv[++i]);
    else {
        console.error(`sio-server: unknown argument ${argv[i]}`);
        process.exit(2);
    }
}

const httpServer = createServer();
const io = new Server(httpServer, {
    transports: ["websocket"],
    perMessageDeflate: false,
    httpCompression: false,
    serveClient: false,
});

io.on("connection", (socket) => {
    const room = String(socket.handshake.auth?.room ?? socket.handshake.query.room ?? "lobby");
    socket.join(room);

    // To everyone else in the room.
    socket.on("broadcast", (msg, ack) => {
        socket.to(room).emit("signal", { from: socket.id, type: msg.type, data: msg.data });
        if (typeof ack === "function") ack();
    });

    // To one socket, by id.
    socket.on("direct", (msg, ack) => {
        io.to(msg.to).emit("signal", { from: socket.id, type: msg.type, data: msg.data });
        if (typeof ack === "function") ack();
    });
});

httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening on ${httpServer.address().port}`);
});

function stop() {
    io.close();
    process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
