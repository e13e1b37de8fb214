from ferrosock import socket
phone = socket.socket(socket.AF_INET , socket.SOCK_STREAM)
# 连接服务器
# ip与端口号必须与服务端一致
phone.connect(('127.0.0.1' , __PORT__))
# 发送数据
phone.send('阿宸真帅'.encode('utf-8'))
# 接受数据
data = phone.recv(1024)
print(data.decode('utf-8'))
phone.close()
