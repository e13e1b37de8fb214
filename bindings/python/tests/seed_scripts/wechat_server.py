from ferrosock import socket
# 1、创建服务端socket对象
'''
socket_family 网络地址类型 AF_INET 表示ipv4
socket_type 套接字类型,SOCK_STREAM表示tcp套接字
'''
telphone = socket.socket(socket.AF_INET , socket.SOCK_STREAM)
# 2、绑定自己的IP以及端口号
'''
bind的参数必须是一个元组
这个元组的参数(ip , port)
'''
telphone.bind(('127.0.0.1' , __PORT__))
# 3、设置监听模式,设置最大的连接数
telphone.listen(5)
# 4、等待客户端连接
'''
accept 有两个返回值:1、客户端连接的套接字对象 ;2、连接的客户端地址
客户端连接的套接字对象:用来获取客户端消息的
'''
conn , clinet = telphone.accept()
# 5、接受客户端数据
# recv的参数时每次最多接受最大的字节
data = conn.recv(1024)
print(data)
# 6、给客户端发送数据
conn.send(data)
# 7、关闭
conn.close()
telphone.close()
