#pragma once
// Replies captured from real redis-server 7.0.15 processes (a 3x1 cluster with
// cluster-announce-hostname on 127.0.0.78, a 3x0 cluster on ::1, a fresh node, a stand-alone
// replica), so the parsers are tested against what Redis prints, not what we think it prints.

namespace rci::test::samples {

// CLUSTER NODES on the master of slots 0-5460 while slot 5460 migrates to 8670860d.
inline constexpr const char* nodes_3x1_migrating =
    "5c12f87c5bf9eb400c1f4709862d81e177a9f58e "
    "127.0.0.78:20205@30205,redis-shard2-1.redis-pods.default.svc.cluster.local slave "
    "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd 0 1795576831000 1 connected\n"
    "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd "
    "127.0.0.78:20200@30200,redis-shard0-0.redis-pods.default.svc.cluster.local myself,master - 0 1795576830000 1 "
    "connected 0-5460 [5460->-8670860da83a21b1b23616c759a8099c5aeedc2b]\n"
    "8670860da83a21b1b23616c759a8099c5aeedc2b "
    "127.0.0.78:20201@30201,redis-shard1-0.redis-pods.default.svc.cluster.local master - 0 1795576831135 2 connected "
    "5461-10922\n"
    "8c48db8be1fa8dbb9c1c7a89cb0de5eba2cff3e7 "
    "127.0.0.78:20204@30204,redis-shard1-1.redis-pods.default.svc.cluster.local slave "
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 0 1795576831243 3 connected\n"
    "564ca568259e350cab18edfe3162f71d3ec3ecf0 "
    "127.0.0.78:20203@30203,redis-shard0-1.redis-pods.default.svc.cluster.local slave "
    "8670860da83a21b1b23616c759a8099c5aeedc2b 0 1795576831135 2 connected\n"
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 "
    "127.0.0.78:20202@30202,redis-shard2-0.redis-pods.default.svc.cluster.local master - 0 1795576831146 3 connected "
    "10923-16383\n";

// The myself line of the importing side of the same migration.
inline constexpr const char* nodes_importing_myself =
    "8670860da83a21b1b23616c759a8099c5aeedc2b "
    "127.0.0.78:20201@30201,redis-shard1-0.redis-pods.default.svc.cluster.local myself,master - 0 1795576831000 2 "
    "connected 5461-10922 [5460-<-d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd]\n";

// CLUSTER NODES on ::1 after one slot (10923) moved, with a MEET to a closed port pending.
inline constexpr const char* nodes_ipv6_handshake =
    "1d00a71c5af787367f2ca394c1df74b5657218f1 ::1:20302@30302 master - 0 1795576831039 3 connected 10924-16383\n"
    "826a06819808816f3d36e062b2fc9983ede23e09 ::1:20301@30301 myself,master - 0 1795576830000 2 connected 5461-10922\n"
    "eca8644b1f129d0ef7e200694f3f67d41ee8b15a ::1:20300@30300 master - 0 1795576831140 4 connected 0-5460 10923\n"
    "a715d80b8a289450c7e656a3c672700d24edaec0 ::1:20399@30399 handshake - 0 0 0 disconnected\n";

// Lines seen while a master (then its replica) were killed, node-timeout 2000.
inline constexpr const char* line_master_pfail =
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 "
    "127.0.0.78:20202@30202,redis-shard2-0.redis-pods.default.svc.cluster.local master,fail? - 1795576844295 "
    "1795576843287 3 disconnected 10923-16383";
inline constexpr const char* line_master_fail_slots_taken =
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 "
    "127.0.0.78:20202@30202,redis-shard2-0.redis-pods.default.svc.cluster.local master,fail - 1795576844295 "
    "1795576843287 3 disconnected";
inline constexpr const char* line_replica_fail =
    "5c12f87c5bf9eb400c1f4709862d81e177a9f58e "
    "127.0.0.78:20205@30205,redis-shard2-1.redis-pods.default.svc.cluster.local slave,fail "
    "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd 1795576834294 1795576833270 1 disconnected";

// A fresh node does not know its own IP yet.
inline constexpr const char* nodes_fresh =
    "7bcb3d69254b0768600699818f14c1b6da97f41c :20260@30260 myself,master - 0 0 0 connected\n";

// nodes.conf of the master of 0-5460 (Redis 7.0): the CLUSTER NODES lines plus a vars line.
inline constexpr const char* nodes_conf_7_0 =
    "5c12f87c5bf9eb400c1f4709862d81e177a9f58e "
    "127.0.0.78:20205@30205,redis-shard2-1.redis-pods.default.svc.cluster.local slave "
    "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd 0 1795576831000 1 connected\n"
    "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd "
    "127.0.0.78:20200@30200,redis-shard0-0.redis-pods.default.svc.cluster.local myself,master - 0 1795576830000 1 "
    "connected 0-5460 [5460->-8670860da83a21b1b23616c759a8099c5aeedc2b]\n"
    "8670860da83a21b1b23616c759a8099c5aeedc2b "
    "127.0.0.78:20201@30201,redis-shard1-0.redis-pods.default.svc.cluster.local master - 0 1795576831135 2 connected "
    "5461-10922\n"
    "8c48db8be1fa8dbb9c1c7a89cb0de5eba2cff3e7 "
    "127.0.0.78:20204@30204,redis-shard1-1.redis-pods.default.svc.cluster.local slave "
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 0 1795576831033 3 connected\n"
    "564ca568259e350cab18edfe3162f71d3ec3ecf0 "
    "127.0.0.78:20203@30203,redis-shard0-1.redis-pods.default.svc.cluster.local slave "
    "8670860da83a21b1b23616c759a8099c5aeedc2b 0 1795576831135 2 connected\n"
    "54235bfa57cf9b242d80622e6fd514ba6260e0c1 "
    "127.0.0.78:20202@30202,redis-shard2-0.redis-pods.default.svc.cluster.local master - 0 1795576831146 3 connected "
    "10923-16383\n"
    "vars currentEpoch 6 lastVoteEpoch 0\n";

// CLUSTER INFO replies (Redis ends INFO-style lines with \r\n).
inline constexpr const char* cluster_info_ok =
    "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\n"
    "cluster_slots_fail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:6\r\n"
    "cluster_my_epoch:1\r\ncluster_stats_messages_ping_sent:84\r\ncluster_stats_messages_pong_sent:88\r\n"
    "cluster_stats_messages_sent:172\r\ncluster_stats_messages_ping_received:83\r\n"
    "cluster_stats_messages_pong_received:84\r\ncluster_stats_messages_meet_received:5\r\n"
    "cluster_stats_messages_received:172\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n";
// After the master of 10923-16383 and its promoted replica both died.
inline constexpr const char* cluster_info_fail =
    "cluster_state:fail\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:10923\r\ncluster_slots_pfail:0\r\n"
    "cluster_slots_fail:5461\r\ncluster_known_nodes:6\r\ncluster_size:3\r\ncluster_current_epoch:7\r\n"
    "cluster_my_epoch:1\r\n";
inline constexpr const char* cluster_info_fresh =
    "cluster_state:fail\r\ncluster_slots_assigned:0\r\ncluster_slots_ok:0\r\ncluster_slots_pfail:0\r\n"
    "cluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\ncluster_current_epoch:0\r\n"
    "cluster_my_epoch:0\r\n";

// INFO replication replies.
inline constexpr const char* replication_replica_up =
    "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.78\r\nmaster_port:20201\r\nmaster_link_status:up\r\n"
    "master_last_io_seconds_ago:10\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:14\r\n"
    "slave_repl_offset:14\r\nslave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\n"
    "connected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
    "master_replid:2aa68d3649e81e2796b9d44126755e9d776205c0\r\n"
    "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:14\r\n"
    "second_repl_offset:-1\r\nrepl_backlog_active:1\r\nrepl_backlog_size:1048576\r\n"
    "repl_backlog_first_byte_offset:1\r\nrepl_backlog_histlen:14\r\n";
inline constexpr const char* replication_replica_down =
    "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.78\r\nmaster_port:20299\r\nmaster_link_status:down\r\n"
    "master_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:1\r\n"
    "slave_repl_offset:1\r\nmaster_link_down_since_seconds:-1\r\nslave_priority:100\r\nslave_read_only:1\r\n"
    "replica_announced:1\r\nconnected_slaves:0\r\n";
inline constexpr const char* replication_master =
    "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
    "slave0:ip=127.0.0.1,port=20203,state=online,offset=14,lag=0\r\nmaster_failover_state:no-failover\r\n"
    "master_replid:2aa68d3649e81e2796b9d44126755e9d776205c0\r\n"
    "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:14\r\n"
    "second_repl_offset:-1\r\nrepl_backlog_active:1\r\nrepl_backlog_size:1048576\r\n"
    "repl_backlog_first_byte_offset:1\r\nrepl_backlog_histlen:14\r\n";

}  // namespace rci::test::samples
