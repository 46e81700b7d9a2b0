#!/usr/bin/env bash
# Writes the seed corpora, fuzz/corpus/<target>/seed-*: a few valid inputs
# per target (real frames, a session id, tokens and a REST token minted by
# otc-server, REST bodies). Run again only to refresh them; the fuzz runs
# (scripts/fuzz.sh) never write into fuzz/corpus.
#
# Usage: fuzz/make-seeds.sh [OTC_SERVER_BINARY]
# (default: $CARGO_TARGET_DIR/debug/otc-server, built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
unset OTC_API_KEY OTC_API_SECRET OTC_CONFIG OTC_LISTEN

bin=${1:-${CARGO_TARGET_DIR:-target}/debug/otc-server}
if [ ! -x "$bin" ]; then
    cargo build -q -p otc-server --bin otc-server
fi
otc() { "$bin" "$@"; }

key=100000
secret=otc-dev-secret-0123456789abcdef0123456789
sid=$(otc create-session)
jwt=$(otc token --session-id "$sid" --role moderator --data "name=Ann")
legacy=$(otc token --session-id "$sid" --legacy --data "name=Bob & co")
rest=$(otc rest-token --expire 3600)
far=4102444800 # 2100-01-01: seeds that the harness signs stay unexpired

seed() { # seed TARGET NAME CONTENT
    mkdir -p "fuzz/corpus/$1"
    printf '%s' "$3" >"fuzz/corpus/$1/seed-$2"
}

seed client_frame connect "{\"kind\":\"connect\",\"version\":1,\"api_key\":\"$key\",\"session_id\":\"$sid\",\"token\":\"$jwt\",\"suppress_connection_events\":false}"
seed client_frame resume "{\"kind\":\"resume\",\"version\":1,\"api_key\":\"$key\",\"session_id\":\"$sid\",\"connection_id\":\"c-1\",\"resume_secret\":\"0f1e2d3c\",\"last_seq\":12}"
seed client_frame signal '{"kind":"signal","seq":1,"type":"chat","data":"hello"}'
seed client_frame signal-to '{"kind":"signal","seq":2,"type":"t","data":"a\"b\\c\u00e9\n\ud83d\ude00","to":["c-1","c-2"]}'
seed client_frame ack '{"kind":"ack","seq":4}'
seed client_frame ping '{"kind":"ping","id":7}'
seed client_frame disconnect '{"kind":"disconnect"}'

seed server_frame connected "{\"kind\":\"connected\",\"version\":1,\"session_id\":\"$sid\",\"connection\":{\"id\":\"c-1\",\"created_at_ms\":1700000000000,\"data\":\"name=Ann\"},\"connections\":[{\"id\":\"c-2\",\"created_at_ms\":1700000000001}],\"resume_secret\":\"0f1e2d3c\",\"last_seq\":3,\"ping_interval_ms\":5000,\"reconnect_grace_ms\":30000}"
seed server_frame resumed '{"kind":"resumed","last_client_seq":5}'
seed server_frame error '{"kind":"error","code":1004,"message":"token refused"}'
seed server_frame signal '{"kind":"signal","seq":9,"from":"c-2","type":"chat","data":"hi \u00e9"}'
seed server_frame signal-rest '{"kind":"signal","seq":10,"data":"from the REST API"}'
seed server_frame signal-ack '{"kind":"signal_ack","seq":1}'
seed server_frame signal-error '{"kind":"signal_error","seq":2,"code":1600,"message":"gone"}'
seed server_frame connection-created '{"kind":"connection_created","seq":4,"connection":{"id":"c-3","created_at_ms":1700000000002,"data":""}}'
seed server_frame connection-destroyed '{"kind":"connection_destroyed","seq":5,"connection_id":"c-3","reason":"network_disconnected"}'
seed server_frame disconnected '{"kind":"disconnected","reason":"force_disconnected","message":"bye"}'
seed server_frame pong '{"kind":"pong","id":7}'

# token: the first character is the mode (see fuzz_targets/token.rs);
# @SID@ stands for the session the harness joins.
seed token jwt "0$jwt"
seed token legacy "0$legacy"
seed token legacy-body "1${legacy#T1==}"
seed token legacy-signed "3session_id=@SID@&create_time=1700000000&expire_time=$far&role=moderator&nonce=1&connection_data=name%3DAnn"
seed token jwt-signed "4{\"iss\":\"$key\",\"scope\":\"session.connect\",\"session_id\":\"@SID@\",\"role\":\"subscriber\",\"iat\":1700000000,\"exp\":$far,\"connection_data\":\"name=Ann\",\"ist\":\"project\",\"nonce\":5}"
seed token jwt-header "4{\"typ\":\"JWT\",\"alg\":\"HS256\"}
{\"iss\":$key,\"session_id\":\"@SID@\",\"scope\":\"session.connect\",\"exp\":$far}"
seed token legacy-head "5partner_id=$key&x=1:session_id=@SID@&expire_time=$far&role=publisheronly"

# session_id: the first character is the mode (see fuzz_targets/session_id.rs).
seed session_id minted "0$sid"
seed session_id fields "11~$key~1700000000000~00112233445566778899aabbccddeeff~00112233445566778899aabbccddeeff"
seed session_id opentok "2${sid#1_}"
seed session_id signed "31~$key~1700000000000~00112233445566778899aabbccddeeff"

# rest_body: the first character is the mode (see fuzz_targets/rest_body.rs).
seed rest_body signal '0{"type":"chat","data":"hello"}'
seed rest_body signal-null '0{"type":null,"data":"x","extra":[1,{"a":true}]}'
seed rest_body create-form '1location=10.1.2.3&p2p.preference=enabled&archiveMode=manual&e2ee=false'
seed rest_body openvidu "2{\"session\":\"$sid\",\"to\":[\"c-1\",\"c-2\"],\"type\":\"chat\",\"data\":\"hi\"}"
seed rest_body opentok-auth "3$rest"
seed rest_body project-claims "4{\"iss\":\"$key\",\"ist\":\"project\",\"iat\":1700000000,\"exp\":$far,\"jti\":\"00ff\"}"
seed rest_body basic "5OPENVIDUAPP:$secret"

echo "seeds written to fuzz/corpus/"
