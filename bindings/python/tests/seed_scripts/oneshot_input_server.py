from ferrosock import socket
ip_port=('127.0.0.1',__PORT__)
#1-创建socket对象
sk=socket.socket()
#2-绑定ip port
sk.bind(ip_port)
#3-启动监听
sk.listen()
print('---服务器上线了---')
# 4-阻塞等待连接 返回 套接字 和 客户端的IP
conn,addr =sk.accept()
print('客户端的地址>>>:',addr)
#5-接收数据
client_data =conn.recv(1024).decode('utf-8')
print('接收到客户端的数据>>>',client_data)
#6-发送数据
send_data = input('请输入>>>')
conn.sendall(send_data.encode('utf-8'))
print('发送给客户端的数据>>>',send_data)
#7-关闭socket
conn.close()
