import socket
ip_port=('127.0.0.1',__PORT__)
#1-创建socket对象
sk=socket.socket()
#2-建立连接
sk.connect(ip_port)
while True:
    #3-发送数据
    send_data =input('a:'+'请输入>>>')
    sk.sendall(send_data.encode('utf-8'))
    print('发送给服务端的数据>>>',send_data)
    #4-接收数据
    server_data =sk.recv(1024).decode('utf-8')
    print('接收到服务端的数据>>>',server_data)
#5-关闭socket
sk.close()
