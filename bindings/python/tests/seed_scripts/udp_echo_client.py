from ferrosock import socket

ip_port = ('127.0.0.1', __PORT__)
BUFSIZE = 1024
udp_client_server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

while True:
    msg = input('>>: ').strip()
    if not msg: continue

    udp_client_server.sendto(msg.encode('utf-8'), ip_port)

    back_msg, addr = udp_client_server.recvfrom(BUFSIZE)
    print(back_msg.decode('utf-8'), addr)
